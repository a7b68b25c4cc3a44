using Cedm.Tensors;

namespace Cedm.Clustering;

/// <summary>Checks and views a feature tensor [N, D] for the clusterers (one place for the input contract).</summary>
public static class FeatureMatrix
{
    /// <summary>Returns (N, D) after checking rank 2, N ≥ 1, D ≥ 1, 1 ≤ K ≤ N and finite values.</summary>
    public static (int N, int D) Check(Tensor features, int k, string what = "features")
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Shape.Length != 2)
            throw new ArgumentException($"{what}: expected a matrix (N, D), got rank {features.Shape.Length}");
        int n = features.Shape[0], d = features.Shape[1];
        if (n < 1 || d < 1) throw new ArgumentException($"{what}: empty matrix ({n}, {d})");
        if (k < 1) throw new ArgumentException($"K must be at least 1, got {k}");
        if (k > n) throw new ArgumentException($"K = {k} is larger than the number of points N = {n}");
        int bad = FirstNonFinite(features.Data);
        if (bad >= 0)
            throw new ArgumentException($"{what}: non-finite value {features.Data[bad]} at row {bad / d}, column {bad % d}");
        return (n, d);
    }

    /// <summary>Index of the first NaN/±Inf, or −1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> data)
    {
        for (int i = 0; i < data.Length; i++)
            if (!float.IsFinite(data[i])) return i;
        return -1;
    }

    /// <summary>Row-wise L2 normalisation into a new array (rows of zeros stay zero): the cosine mode's input.</summary>
    public static float[] L2NormalizedRows(ReadOnlySpan<float> x, int n, int d)
    {
        var y = new float[x.Length];
        for (int i = 0; i < n; i++)
        {
            var row = x.Slice(i * d, d);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, norm > 0 ? 1f / norm : 0f, y.AsSpan(i * d, d));
        }
        return y;
    }
}
