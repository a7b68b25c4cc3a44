using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Cedm.IO;

namespace Cedm.Clustering;

/// <summary>
/// options.json of a `cedm cluster` folder: which features were clustered, how, and how long it took. Read back by
/// evaluation to recreate the feature map of the clustering (<see cref="Features"/>'s side file).
/// </summary>
public sealed record ClusteringRecord
{
    public const string FileName = "options.json";

    public int Version { get; init; } = 1;

    /// <summary>Absolute path of the features file that was clustered.</summary>
    public required string Features { get; init; }

    public required string Method { get; init; }

    public int K { get; init; }

    public int Seed { get; init; }

    public int N { get; init; }

    public int D { get; init; }

    public double Seconds { get; init; }

    /// <summary>The method's own options and fit statistics, as the clusterer reported them.</summary>
    public JsonNode? Fit { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public void Save(string dir, bool overwrite = true) =>
        AtomicFile.WriteAllBytes(Path.Combine(dir, FileName), JsonSerializer.SerializeToUtf8Bytes(this, Json), overwrite);

    /// <summary>The record of a cluster folder, or null when it has none (a folder made by hand).</summary>
    public static ClusteringRecord? Load(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<ClusteringRecord>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a cedm cluster options file ({e.Message})", e); }
    }
}
