using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;

namespace Cedm.Clustering.Bounds;

/// <summary>
/// bound.json, the file of `cedm bound` (cli.md keys: k_ub, threshold, table [{k, utilized, ratio}], k_lb with
/// --lower; also each row's phase, β and seconds, the cap, timings, N, the options and a version). Written and read
/// only here.
/// </summary>
public static class BoundFile
{
    public const int Version = 1;

    public static JsonObject ToJson(BoundResult r, BoundOptions o, int rows)
    {
        var doc = new JsonObject
        {
            ["version"] = Version,
            ["k_ub"] = r.KUpper,
            ["threshold"] = r.Threshold,
            ["table"] = new JsonArray(r.Table.Select(row => (JsonNode)RowJson(row)).ToArray()),
            ["stop"] = r.Stop,
            ["capped"] = r.Capped,
            ["crossed"] = r.Crossed,
            ["refined"] = r.Refined,
            ["capped_at_max_k"] = r.CappedAtMaxK,
            ["data_cap_k"] = r.DataCapK,
            ["min_rows_per_cluster"] = o.MinRowsPerCluster,
            ["rows"] = r.Rows,
            ["data_rows"] = r.DataRows,
            ["time_budget_seconds"] = r.TimeBudgetSeconds,
            ["knn_seconds"] = Math.Round(r.KnnSeconds, 3),
            ["total_seconds"] = Math.Round(r.TotalSeconds, 3),
            ["options"] = JsonSerializer.SerializeToNode(o),
            ["n"] = rows,
        };
        if (r.KLower is int lb)
        {
            doc["k_lb"] = lb;
            doc["lower_run"] = RowJson(r.LowerRun!);
        }
        return doc;
    }

    public static void Save(string path, BoundResult r, BoundOptions o, int rows, bool overwrite) =>
        AtomicFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(ToJson(r, o, rows).ToJsonString(new JsonSerializerOptions { WriteIndented = true })), overwrite);

    /// <summary>Reads a bound.json (also one written before the version field, or by hand with only the cli.md keys).</summary>
    public static BoundResult Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such bound file", path);
        try
        {
            var doc = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object");
            var table = (doc["table"]?.AsArray() ?? throw new InvalidDataException($"{path}: no 'table'")).Select(n => ReadRow(n!.AsObject())).ToList();
            var lowerRun = doc["lower_run"] is JsonObject lr ? ReadRow(lr) : null;
            return new BoundResult(
                doc["k_ub"]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: no 'k_ub'"),
                doc["threshold"]?.GetValue<double>() ?? throw new InvalidDataException($"{path}: no 'threshold'"),
                table, doc["capped_at_max_k"]?.GetValue<bool>() ?? false, doc["k_lb"]?.GetValue<int>(), lowerRun,
                doc["knn_seconds"]?.GetValue<double>() ?? 0, doc["total_seconds"]?.GetValue<double>() ?? 0)
            {
                Stop = doc["stop"]?.GetValue<string>() ?? (doc["capped_at_max_k"]?.GetValue<bool>() == true ? BoundStop.MaxK : BoundStop.Threshold),
                Crossed = doc["crossed"]?.GetValue<bool>() ?? table.Any(r => r.Ratio < doc["threshold"]!.GetValue<double>()),
                Refined = doc["refined"]?.GetValue<bool>() ?? false,
                DataCapK = doc["data_cap_k"]?.GetValue<int>() ?? 0,
                Rows = doc["rows"]?.GetValue<int>() ?? doc["n"]?.GetValue<int>() ?? 0,
                DataRows = doc["data_rows"]?.GetValue<int>() ?? 0,
                TimeBudgetSeconds = doc["time_budget_seconds"]?.GetValue<double>() ?? 0,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a readable bound file ({e.Message})", e);
        }
    }

    private static JsonObject RowJson(BoundRow row) => new()
    {
        ["k"] = row.K, ["utilized"] = row.Utilized, ["ratio"] = row.Ratio, ["phase"] = row.Phase, ["beta"] = row.Beta, ["seconds"] = Math.Round(row.Seconds, 3),
    };

    private static BoundRow ReadRow(JsonObject o) => new(
        o["k"]!.GetValue<int>(), o["utilized"]!.GetValue<int>(), o["ratio"]!.GetValue<double>(),
        o["phase"]?.GetValue<string>() ?? "double", o["beta"]?.GetValue<double>() ?? 0.6, o["seconds"]?.GetValue<double>() ?? 0);
}
