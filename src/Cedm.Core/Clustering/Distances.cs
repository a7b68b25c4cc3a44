using System.Numerics.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Clustering;

/// <summary>
/// Squared Euclidean distances between many points and a few centres through GEMM:
/// ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖² (the expansion sklearn also uses), in row blocks so the [block, K] buffer stays in
/// cache. Negative round-off is clamped to 0.
/// </summary>
internal static class Distances
{
    /// <summary>Rows per GEMM block: [4096, K] floats stay within L2 for K up to a few hundred.</summary>
    public const int BlockRows = 4096;

    public static float[] RowSquaredNorms(ReadOnlySpan<float> x, int n, int d)
    {
        var norms = new float[n];
        for (int i = 0; i < n; i++)
        {
            var row = x.Slice(i * d, d);
            norms[i] = TensorPrimitives.Dot(row, row);
        }
        return norms;
    }

    /// <summary>dist[r, j] = ‖x_{start+r} − c_j‖² for r in [0, rows).</summary>
    public static void Block(float[] x, float[] xNorms, int start, int rows, int d, float[] centers, float[] cNorms, int k, float[] dist)
    {
        Gemm.Sgemm(false, true, rows, k, d, -2f, x.AsSpan(start * d, rows * d), d, centers, d, 0f, dist, k);
        Parallelism.For(rows, (s, len) =>
        {
            for (int r = s; r < s + len; r++)
            {
                var row = dist.AsSpan(r * k, k);
                TensorPrimitives.Add(row, cNorms.AsSpan(0, k), row);
                TensorPrimitives.Add(row, xNorms[start + r], row);
                TensorPrimitives.Max(row, 0f, row);
            }
        }, minChunk: Math.Max(64, 8192 / Math.Max(1, k)));
    }

    /// <summary>
    /// Confidence = max softmax(−d²/T) for one row of squared distances (k-means/agglo, documented in KMeansOptions):
    /// exp(−(d_min − d_min)/T) / Σ_j exp(−(d_j − d_min)/T) = 1 / Σ_j exp(−(d_j − d_min)/T).
    /// </summary>
    public static float SoftmaxConfidence(ReadOnlySpan<float> sqDist, double temperature)
    {
        float min = TensorPrimitives.Min(sqDist);
        double sum = 0;
        double inv = 1.0 / temperature;
        foreach (float v in sqDist) sum += Math.Exp(-(v - min) * inv);
        return (float)(1.0 / sum);
    }
}
