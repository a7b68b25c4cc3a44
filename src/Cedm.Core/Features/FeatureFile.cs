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
    /// <summary>Version of the side file's layout.</summary>
    public const int Version = 1;

    public static string SidePath(string npyPath) => Path.ChangeExtension(npyPath, ".json");

    /// <summary>Where a fitted PCA is saved next to the features: feats.npy → feats.pca.safetensors.</summary>
    public static string ModelPath(string npyPath) => Path.ChangeExtension(npyPath, ".pca.safetensors");

    /// <summary>Where a trained ssl encoder is saved next to the features: feats.npy → feats.ssl.safetensors.</summary>
    public static string SslModelPath(string npyPath) => Path.ChangeExtension(npyPath, ".ssl.safetensors");

    public static void Write(string npyPath, Tensor features, JsonObject info, bool overwrite)
    {
        if (features.ShapeArray().Length != 2) throw new ArgumentException($"features must be [N, D]; got {string.Join("x", features.ShapeArray())}");
        string side = SidePath(npyPath);
        if (!overwrite)
            foreach (var p in new[] { npyPath, side })
                if (File.Exists(p)) throw new OutputExistsException(p);
        var shape = features.ShapeArray();
        Npy.Write(npyPath, features.Data, shape[0], shape[1]);
        info["version"] = Version;
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

    /// <summary>
    /// Largest feature magnitude accepted: beyond it the float32 squared distances and covariances the clusterers and
    /// metrics compute overflow (x² · D passes float32's 3.4e38 for |x| ≈ 1e17 at D = 512), and the failure would come
    /// from deep inside an algorithm instead of naming the file.
    /// </summary>
    public const double MaxMagnitude = 1e15;

    /// <summary>
    /// Reads a float32/float64 .npy shaped (N, D) with N ≥ <paramref name="minRows"/>, every value finite and within
    /// ±<see cref="MaxMagnitude"/>; every failure names the file (and the row and column of a bad value).
    /// </summary>
    public static NpyArray ReadValidated(string path, int minRows = 1)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such features file", path);
        if (new FileInfo(path).Length == 0) throw new InvalidDataException($"{path}: empty file (expected a .npy of features (N, D))");
        NpyArray a;
        try { a = Npy.Read(path); }
        catch (Exception e) when (e is not InvalidDataException and not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a readable .npy file ({e.Message})", e);
        }
        if (a.DType is not (DType.F32 or DType.F64))
            throw new InvalidDataException($"{path}: features must be float32 or float64, got {a.DType}");
        if (a.Shape.Length != 2)
            throw new InvalidDataException($"{path}: features must have shape (N, D), got rank {a.Shape.Length} ({string.Join(", ", a.Shape)})");
        if (a.Shape[0] < minRows || a.Shape[1] < 1)
            throw new InvalidDataException($"{path}: need at least {minRows} feature row(s) of at least 1 value, got shape ({a.Shape[0]}, {a.Shape[1]})");
        int d = a.Shape[1];
        if (a.DType == DType.F64) CheckValues(path, a.As<double>(), d);
        else CheckValues(path, a.As<float>(), d);
        return a;
    }

    private static void CheckValues<T>(string path, ReadOnlySpan<T> values, int d) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            double v = double.CreateTruncating(values[i]);
            if (!double.IsFinite(v)) throw new InvalidDataException($"{path}: non-finite value {v} at row {i / d}, column {i % d}");
            if (Math.Abs(v) > MaxMagnitude) throw new InvalidDataException($"{path}: value {v} at row {i / d}, column {i % d} is beyond ±{MaxMagnitude:0e0} (rescale the features)");
        }
    }

    /// <summary>Reads validated (N, D) features for clustering (<see cref="ReadValidated"/>) as a float32 tensor.</summary>
    public static Tensor ReadMatrix(string path)
    {
        var a = ReadValidated(path);
        return new Tensor(a.ToFloat32(), a.Shape[0], a.Shape[1]);
    }

    /// <summary>The "resolved" extractor spec recorded in a features file's side file (recreates the same map), or null.</summary>
    public static string? ResolvedSpec(string npyPath) => ReadInfo(npyPath)?["resolved"]?.GetValue<string>();

    /// <summary>The side file's JSON, or null when there is none.</summary>
    public static JsonObject? ReadInfo(string npyPath)
    {
        string side = SidePath(npyPath);
        return File.Exists(side) ? JsonFile.ReadObject(side) : null;
    }
}
