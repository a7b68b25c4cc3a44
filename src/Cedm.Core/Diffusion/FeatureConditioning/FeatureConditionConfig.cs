using Cedm.IO;

namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// A feature-conditioned run's record (the "features" object of config.json): the kind (features = oracle, gmm = a
/// mixture over a clustering), where the features and clusters came from, the options, the dimensions and the
/// variance the whitening kept. The fitted whitening and mixture are stored beside it as <see cref="FileName"/>
/// (<see cref="Save"/>/<see cref="Load"/>), which `cedm sample` and resumed runs read back.
/// </summary>
public sealed record FeatureConditionConfig
{
    public const string FileName = "feature_condition.safetensors";
    private const int FormatVersion = 1;

    /// <summary>"features" (each image's own vector, the oracle row) or "gmm".</summary>
    public required string Kind { get; init; }

    /// <summary>The features file (absolute path).</summary>
    public required string Features { get; init; }

    /// <summary>The cluster folder of a gmm run, else null.</summary>
    public string? Clusters { get; init; }

    public required FeatureConditionOptions Options { get; init; }

    /// <summary>Feature dimension D of the file.</summary>
    public int InputDim { get; init; }

    /// <summary>Mixture components (utilised clusters; 1 for an oracle run).</summary>
    public int Components { get; init; }

    /// <summary>"hard" or "soft": the responsibilities the mixture was fitted with.</summary>
    public string Responsibilities { get; init; } = "hard";

    /// <summary>Share of the features' total variance kept by the d whitened directions.</summary>
    public double ExplainedVariance { get; init; }

    /// <summary>Writes the whitening and the mixture into a run folder (atomically).</summary>
    public static void Save(string runDir, FeatureSpace space, FeatureMixture mixture)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(mixture);
        static float[] F(double[] a) => a.Select(v => (float)v).ToArray();
        int k = mixture.K, d = mixture.Dimension, r = mixture.Rank, din = space.InputDimension;
        var tensors = new List<(string, int[], float[])>
        {
            ("space.mean", [din], space.Mean), ("space.projection", [d, din], space.Projection), ("space.eigenvalues", [d], F(space.Eigenvalues)),
            ("mixture.weights", [k], F(mixture.Weights)), ("mixture.means", [k, d], F(mixture.Means)), ("mixture.diagonal", [k, d], F(mixture.Diagonal)),
            ("mixture.used", [k], mixture.Used.Select(u => (float)u).ToArray()),
        };
        if (r > 0) tensors.Add(("mixture.factors", [k, d, r], F(mixture.Factors)));
        Safetensors.Write(Path.Combine(runDir, FileName), tensors,
            new Dictionary<string, string> { ["format"] = "cedm.feature_condition", ["version"] = FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), ["rank"] = r.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    /// <summary>Reads <see cref="FileName"/> of a run folder; a missing or inconsistent file names itself.</summary>
    public static (FeatureSpace Space, FeatureMixture Mixture) Load(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: missing although config.json conditions on features", path);
        var file = Safetensors.Read(path);
        float[] Get(string name) => file.Tensors.TryGetValue(name, out var e) ? e.Data : throw new InvalidDataException($"{path}: no tensor '{name}'");
        int[] Shape(string name) => file.Tensors[name].Shape;
        try
        {
            var means = Shape("mixture.means");
            int k = means[0], d = means[1];
            int r = file.Tensors.ContainsKey("mixture.factors") ? Shape("mixture.factors")[2] : 0;
            static double[] D(float[] a) => a.Select(v => (double)v).ToArray();
            var space = new FeatureSpace(Get("space.mean"), Get("space.projection"), D(Get("space.eigenvalues")));
            var mixture = new FeatureMixture(d, r, D(Get("mixture.weights")), D(Get("mixture.means")), D(Get("mixture.diagonal")),
                r > 0 ? D(Get("mixture.factors")) : [], Get("mixture.used").Select(v => (long)v).ToArray());
            if (space.Dimension != d) throw new InvalidDataException($"{path}: whitening to {space.Dimension} dimensions but a mixture in {d}");
            if (mixture.K != k) throw new InvalidDataException($"{path}: inconsistent component count");
            return (space, mixture);
        }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }
}
