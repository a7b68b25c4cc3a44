using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;

namespace Cedm.Stages;

/// <summary>
/// metrics.json of `cedm eval` (cli.md: "fd" plus one key per further metric): fd, kid, kid_std, precision, recall,
/// density, coverage, n_real, n_samples, evaluator, d, real_source, real_transform, kid_subsets, kid_subset_size,
/// prdc_k, prdc_n_real, prdc_n_samples, per_cluster_fd (id → {fd, n_real, n_samples}) and per_cluster_fd_mean;
/// with a cluster model cluster_features, cluster_distribution, cluster_tv, cluster_confidence_mean/median,
/// cluster_agreement; cache, timings_s and a version. Typed accessors for what the pipelines read; the document
/// itself is kept whole so nothing is lost between writing and reading.
/// </summary>
public sealed class EvalReport(JsonObject document)
{
    public const int Version = 1;

    public JsonObject Document { get; } = WithVersion(document);

    public double Fd => Number("fd");

    public double Kid => Number("kid");

    public double Precision => Number("precision");

    public double Recall => Number("recall");

    public double Density => Number("density");

    public double Coverage => Number("coverage");

    /// <summary>The evaluator spec as given.</summary>
    public string Evaluator => Document["evaluator"]?.GetValue<string>() ?? "?";

    /// <summary>A numeric metric by key, NaN when absent (a metric a run could not produce).</summary>
    public double Number(string key) => Document[key] is JsonValue v && v.TryGetValue<double>(out double d) ? d : double.NaN;

    /// <summary>Every top-level numeric metric, in file order (the report's table).</summary>
    public IEnumerable<(string Key, double Value)> Numbers() =>
        Document.Where(kv => kv.Key != "version" && kv.Value is JsonValue v && v.TryGetValue<double>(out _)).Select(kv => (kv.Key, kv.Value!.GetValue<double>()));

    public void Save(string path, bool overwrite = true) =>
        AtomicFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(Document.ToJsonString(new JsonSerializerOptions { WriteIndented = true })), overwrite);

    public static EvalReport Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such metrics file", path);
        try { return new EvalReport(JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object")); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a readable metrics file ({e.Message})", e); }
    }

    private static JsonObject WithVersion(JsonObject doc)
    {
        doc["version"] ??= Version;
        return doc;
    }
}
