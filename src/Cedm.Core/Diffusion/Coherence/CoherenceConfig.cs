using Cedm.Diffusion.Labels;
using Cedm.IO;

namespace Cedm.Diffusion.Coherence;

/// <summary>Summary statistics of a set of coherence scores (config.json, `cedm train --coherence`).</summary>
public sealed record CoherenceStats(double Mean, double Std, double Min, double Median, double Max)
{
    public static CoherenceStats Of(IReadOnlyList<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return new CoherenceStats(0, 0, 0, 0, 0);
        var sorted = values.Order().ToArray();
        double mean = values.Average(v => (double)v);
        double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
        return new CoherenceStats(mean, std, sorted[0], CoherenceTransform.Quantile(sorted, 0.5), sorted[^1]);
    }
}

/// <summary>
/// A coherence-aware run's record (the "coherence" object of config.json): the options as given, what the scores
/// were computed from, the fitted pre-processing and statistics of the raw and the pre-processed scores, plus a
/// 10-bin histogram of the latter over [0, 1]. The pre-processed score of every training image is stored beside it
/// in the run folder as <see cref="FileName"/> (float32 [N], dataset order), which resumed runs read back.
/// </summary>
public sealed record CoherenceConfig
{
    public const string FileName = "coherence.npy";

    public required CoherenceOptions Options { get; init; }
    public required string Basis { get; init; }
    public required CoherenceTransform Transform { get; init; }
    public required CoherenceStats Raw { get; init; }
    public required CoherenceStats Processed { get; init; }
    public IReadOnlyList<int> Histogram { get; init; } = [];

    /// <summary>
    /// Scores for <paramref name="count"/> training images: a score kind needs the run's clustering
    /// <paramref name="clusters"/> (null when the run is not conditioned on clusters), a file does not. Returns the
    /// pre-processed scores and the record for config.json.
    /// </summary>
    public static (float[] Values, CoherenceConfig Config) Prepare(CoherenceOptions options, ClusterLabels? clusters, int count)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        CoherenceScores scores;
        if (options.IsKind)
        {
            if (clusters == null)
                throw new SettingException("Cond", $"coherence {options.Source} is computed from a clustering: condition on clusters (or pass a .npy of scores)");
            scores = CoherenceScores.FromClusters(clusters, options.Source);
            if (scores.Values.Length != count) throw new InvalidDataException($"coherence {options.Source}: {scores.Values.Length} scores for {count} images");
        }
        else scores = CoherenceScores.FromFile(options.Source, count);
        var transform = CoherenceTransform.Fit(scores.Values, options);
        var values = transform.Apply(scores.Values);
        var histogram = new int[10];
        foreach (float v in values) histogram[Math.Min((int)(v * 10), 9)]++;
        return (values, new CoherenceConfig
        {
            Options = options, Basis = scores.Basis, Transform = transform,
            Raw = CoherenceStats.Of(scores.Values), Processed = CoherenceStats.Of(values), Histogram = histogram,
        });
    }

    /// <summary>Writes the per-image scores into a run folder (atomically).</summary>
    public static void SaveValues(string runDir, float[] values) => Npy.Write(Path.Combine(runDir, FileName), values, values.Length);

    /// <summary>Reads a run folder's per-image scores, checking their count and range.</summary>
    public static float[] LoadValues(string runDir, int count)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{runDir}: no {FileName} although config.json enables coherence", path);
        var values = Npy.Read(path).ToFloat32();
        CoherenceScores.Check(values, count, path);
        return values;
    }
}
