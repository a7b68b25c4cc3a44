using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Features;

/// <summary>
/// features.npy (float32 [N, D]) with its JSON side file (same name, .json): extractor spec as given, a
/// "resolved" spec that recreates the same map without refitting, the model file (PCA), source, N, D, options.
/// </summary>
public static class FeatureFile
{
    public static string SidePath(string npyPath) => Path.ChangeExtension(npyPath, ".json");

    /// <summary>Where a fitted PCA is saved next to the features: feats.npy → feats.pca.safetensors.</summary>
    public static string ModelPath(string npyPath) => Path.ChangeExtension(npyPath, ".pca.safetensors");

    public static void Write(string npyPath, Tensor features, JsonObject info, bool overwrite)
    {
        if (features.ShapeArray().Length != 2) throw new ArgumentException($"features must be [N, D]; got {string.Join("x", features.ShapeArray())}");
        string side = SidePath(npyPath);
        if (!overwrite)
            foreach (var p in new[] { npyPath, side })
                if (File.Exists(p)) throw new IOException($"{p} already exists (pass --force to overwrite)");
        var shape = features.ShapeArray();
        Npy.Write(npyPath, features.Data, shape[0], shape[1]);
        info["n"] = shape[0];
        info["d"] = shape[1];
        AtomicFile.WriteAllBytes(side, System.Text.Encoding.UTF8.GetBytes(info.ToJsonString(new JsonSerializerOptions { WriteIndented = true })), overwrite: true);
    }

    /// <summary>Reads a feature matrix (float32 or float64 .npy shaped (N, D)) as float32 rows.</summary>
    public static (float[] Data, int Rows, int Dimension) Read(string npyPath)
    {
        if (!File.Exists(npyPath)) throw new FileNotFoundException($"{npyPath}: no such file", npyPath);
        var a = Npy.Read(npyPath);
        if (!a.DType.IsFloat() || a.Shape.Length != 2)
            throw new InvalidDataException($"{npyPath}: features must be float32 or float64 shaped (N, D); got {a.DType} ({string.Join(", ", a.Shape)})");
        return (a.ToFloat32(), a.Shape[0], a.Shape[1]);
    }

    /// <summary>The side file's JSON, or null when there is none.</summary>
    public static JsonObject? ReadInfo(string npyPath)
    {
        string side = SidePath(npyPath);
        return File.Exists(side) ? JsonNode.Parse(File.ReadAllText(side)) as JsonObject : null;
    }
}
