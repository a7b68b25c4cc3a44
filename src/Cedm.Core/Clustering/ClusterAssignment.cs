using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;

namespace Cedm.Clustering;

/// <summary>
/// The result of clustering N images into K clusters (cli.md `cedm cluster`): a hard id per image, optional soft
/// probabilities [N, K], a confidence per image (max probability, or the method's documented stand-in), and the
/// derived empirical distribution p(c), sizes and utilisation (spec §4.6, §5.1).
/// On disk: ids.npy (int64 [N]), probs.npy (float32 [N, K], soft methods), confidence.npy (float32 [N]) and
/// clusters.json (k, utilized, ratio, sizes, p_c, method, options, confidence statistics).
/// </summary>
public sealed class ClusterAssignment
{
    public ClusterAssignment(string method, int k, int[] ids, float[] confidence, float[]? probabilities = null, JsonNode? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (confidence.Length != ids.Length)
            throw new ArgumentException($"{confidence.Length} confidences for {ids.Length} ids.");
        if (probabilities != null && probabilities.Length != (long)ids.Length * k)
            throw new ArgumentException($"Probabilities have {probabilities.Length} values; expected N*K = {ids.Length}*{k}.");
        foreach (int id in ids)
            if ((uint)id >= (uint)k) throw new ArgumentException($"Cluster id {id} is outside [0, {k}).");
        Method = method; K = k; Ids = ids; Confidence = confidence; Probabilities = probabilities; Options = options;
        Sizes = new int[k];
        foreach (int id in ids) Sizes[id]++;
    }

    public string Method { get; }

    /// <summary>The requested number of clusters.</summary>
    public int K { get; }

    public int Count => Ids.Length;

    /// <summary>Hard cluster id per image, in [0, K).</summary>
    public int[] Ids { get; }

    /// <summary>Soft assignments, row-major [N, K], or null for hard methods.</summary>
    public float[]? Probabilities { get; }

    /// <summary>Confidence per image in [0, 1] (max soft probability; k-means: softmax over negative distances).</summary>
    public float[] Confidence { get; }

    /// <summary>The options that produced this assignment, saved in clusters.json.</summary>
    public JsonNode? Options { get; }

    /// <summary>Images per cluster, length K (empty clusters count 0).</summary>
    public int[] Sizes { get; }

    /// <summary>Number of non-empty clusters, K_used (spec §5.1).</summary>
    public int Utilized => Sizes.Count(s => s > 0);

    /// <summary>Utilisation ratio r(K) = K_used / K (spec §5.1).</summary>
    public double Ratio => (double)Utilized / K;

    /// <summary>Empirical p(c) = n_c / N over all K clusters (zeros for empty ones).</summary>
    public double[] PC => Sizes.Select(s => (double)s / Math.Max(1, Count)).ToArray();

    /// <summary>
    /// Ids renumbered to the utilised clusters 0..K_used−1 in sorted order of the original ids, as C-EDM's loader
    /// does (spec §3), with the mapping used[newId] = oldId.
    /// </summary>
    public (int[] Ids, int[] Used) Compacted()
    {
        var used = Enumerable.Range(0, K).Where(c => Sizes[c] > 0).ToArray();
        var map = new int[K];
        for (int i = 0; i < used.Length; i++) map[used[i]] = i;
        return (Ids.Select(id => map[id]).ToArray(), used);
    }

    public const string IdsFile = "ids.npy", ProbabilitiesFile = "probs.npy", ConfidenceFile = "confidence.npy", JsonFile = "clusters.json";

    /// <summary>
    /// The files of a cluster folder as one <see cref="OutputSet"/>: confidence.npy is written first (the signature of
    /// an interrupted write), clusters.json last (the marker of a complete one).
    /// </summary>
    public static OutputSet Files(string dir) => new(Path.Combine(dir, JsonFile), Path.Combine(dir, ConfidenceFile),
        [Path.Combine(dir, ConfidenceFile), Path.Combine(dir, ProbabilitiesFile), Path.Combine(dir, IdsFile)]);

    /// <summary>Writes the four files into <paramref name="dir"/> (atomically, refusing to overwrite unless <paramref name="overwrite"/>).</summary>
    public void Save(string dir, bool overwrite = false)
    {
        Directory.CreateDirectory(dir);
        Files(dir).CheckWritable(overwrite);
        Npy.Write(Path.Combine(dir, ConfidenceFile), Confidence, Count);
        if (Probabilities != null) Npy.Write(Path.Combine(dir, ProbabilitiesFile), Probabilities, Count, K);
        else if (File.Exists(Path.Combine(dir, ProbabilitiesFile))) File.Delete(Path.Combine(dir, ProbabilitiesFile));
        Npy.Write(Path.Combine(dir, IdsFile), Ids.Select(i => (long)i).ToArray(), Count);
        var json = ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.WriteAllBytes(Path.Combine(dir, JsonFile), System.Text.Encoding.UTF8.GetBytes(json), overwrite: true);
    }

    /// <summary>The clusters.json document (cli.md keys: k, utilized, ratio, sizes, p_c, method, options).</summary>
    public JsonObject ToJson()
    {
        var conf = Confidence.Length == 0 ? [0f] : Confidence;
        var sorted = conf.Order().ToArray();
        return new JsonObject
        {
            ["version"] = 1,
            ["method"] = Method,
            ["k"] = K,
            ["n"] = Count,
            ["utilized"] = Utilized,
            ["ratio"] = Ratio,
            ["sizes"] = new JsonArray(Sizes.Select(s => (JsonNode)s).ToArray()),
            ["p_c"] = new JsonArray(PC.Select(p => (JsonNode)p).ToArray()),
            ["confidence"] = new JsonObject
            {
                ["mean"] = conf.Average(v => (double)v),
                ["min"] = sorted[0],
                ["median"] = sorted[sorted.Length / 2],
                ["max"] = sorted[^1],
            },
            ["soft"] = Probabilities != null,
            ["options"] = Options?.DeepClone(),
        };
    }

    /// <summary>
    /// Reads a folder written by <see cref="Save"/> (or by hand: ids.npy alone is enough; K = max id + 1); a partial
    /// set left by an interrupted <see cref="Save"/> is refused (<see cref="OutputSet"/>).
    /// </summary>
    public static ClusterAssignment Load(string dir)
    {
        string idsPath = Path.Combine(dir, IdsFile);
        if (Files(dir).IsLeftover)
            throw new InvalidDataException($"{dir}: an incomplete `cedm cluster` output ({ConfidenceFile} without {JsonFile}: the run was interrupted); run cedm cluster again");
        if (!File.Exists(idsPath)) throw new FileNotFoundException($"{dir}: no {IdsFile} (expected a `cedm cluster` output folder)", idsPath);
        var idsArray = Npy.Read(idsPath);
        if (idsArray.Shape.Length != 1 || idsArray.DType.IsFloat())
            throw new InvalidDataException($"{idsPath}: cluster ids must be integers shaped (N,), got {idsArray.DType} ({string.Join(", ", idsArray.Shape)})");
        var ids = idsArray.ToInt64().Select(v => v < 0 || v > int.MaxValue ? throw new InvalidDataException($"{idsPath}: negative or huge cluster id {v}") : (int)v).ToArray();
        string jsonPath = Path.Combine(dir, JsonFile);
        var (json, k, method) = File.Exists(jsonPath)
            ? Cedm.IO.JsonFile.Read(jsonPath, j => (j, j["k"]?.GetValue<int>() ?? (ids.Length == 0 ? 1 : ids.Max() + 1), j["method"]?.GetValue<string>() ?? "external"))
            : ((JsonObject?)null, ids.Length == 0 ? 1 : ids.Max() + 1, "external");
        if (k < 1) throw new InvalidDataException($"{jsonPath}: k must be at least 1, got {k}");
        if (ids.Length > 0 && ids.Max() >= k) throw new InvalidDataException($"{idsPath}: cluster id {ids.Max()} is not below k = {k} of {jsonPath}");
        float[]? probs = null;
        string probsPath = Path.Combine(dir, ProbabilitiesFile);
        if (File.Exists(probsPath)) probs = Npy.Read(probsPath).ToFloat32();
        string confPath = Path.Combine(dir, ConfidenceFile);
        float[] conf = File.Exists(confPath) ? Npy.Read(confPath).ToFloat32() : Enumerable.Repeat(1f, ids.Length).ToArray();
        return new ClusterAssignment(method, k, ids, conf, probs, json?["options"]?.DeepClone());
    }
}
