using Cedm.IO;

namespace Cedm.Clustering;

/// <summary>
/// Loads the fitted model that `cedm cluster` saved as &lt;dir&gt;/model.safetensors, by its "kind" metadata entry
/// (one case per method; TEMI adds its own).
/// </summary>
public static class ClusterModels
{
    public const string FileName = "model.safetensors";
    public const string KindKey = "kind";
    public const string KMeansKind = "kmeans", AggloKind = "agglo", GmmKind = "gmm", TemiKind = "temi", TreeVaeKind = "treevae";

    /// <summary>Reads &lt;dir&gt;/model.safetensors (or the file itself when given a path) into the right model.</summary>
    public static IClusterModel Load(string dirOrFile)
    {
        string path = Directory.Exists(dirOrFile) ? Path.Combine(dirOrFile, FileName) : dirOrFile;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no cluster model (expected a `cedm cluster` output folder)", path);
        var file = Safetensors.Read(path);
        if (!file.Metadata.TryGetValue(KindKey, out var kind))
            throw new InvalidDataException($"{path}: no \"{KindKey}\" metadata entry; not a cedm cluster model");
        return kind switch
        {
            KMeansKind or AggloKind => KMeansModel.Load(file, kind),
            GmmKind => GmmModel.Load(file),
            TemiKind => Temi.TemiModel.Load(file),
            TreeVaeKind => TreeVae.TreeVaeClusterModel.Load(file, path),
            _ => throw new InvalidDataException($"{path}: unknown cluster model kind \"{kind}\""),
        };
    }

    internal static SafetensorsEntry Tensor(SafetensorsFile file, string name, int rank)
    {
        if (!file.Tensors.TryGetValue(name, out var t) || t.Shape.Length != rank)
            throw new InvalidDataException($"cluster model: tensor \"{name}\" of rank {rank} missing");
        return t;
    }

    internal static string Meta(SafetensorsFile file, string key) =>
        file.Metadata.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"cluster model: metadata \"{key}\" missing");
}
