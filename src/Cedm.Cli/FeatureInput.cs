using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Cli;

/// <summary>Reads a features file (.npy, float32/float64 [N, D]) for the clustering verbs, with usage errors (exit 2) for bad input.</summary>
public static class FeatureInput
{
    public static Tensor Load(string path, int minRows = 2)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such features file", path);
        NpyArray a;
        try { a = Npy.Read(path); }
        catch (Exception e) when (e is not FileNotFoundException) { throw new InvalidDataException($"{path}: not a readable .npy file ({e.Message})", e); }
        if (a.Shape.Length != 2) throw new InvalidDataException($"{path}: features must be shaped (N, D), got ({string.Join(", ", a.Shape)})");
        if (!a.DType.IsFloat()) throw new InvalidDataException($"{path}: features must be float32 or float64, got {a.DType}");
        int n = a.Shape[0], d = a.Shape[1];
        if (n < minRows || d < 1) throw new InvalidDataException($"{path}: need at least {minRows} rows and 1 column, got ({n}, {d})");
        var data = a.ToFloat32();
        for (int i = 0; i < data.Length; i++)
            if (!float.IsFinite(data[i])) throw new InvalidDataException($"{path}: non-finite value at row {i / d}, column {i % d}");
        return new Tensor(data, n, d);
    }
}
