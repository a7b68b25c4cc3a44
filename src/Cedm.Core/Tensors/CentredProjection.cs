using Cedm.Tensors.Autograd;

namespace Cedm.Tensors;

/// <summary>
/// The centred linear map of PCA and whitening, z = (x − μ)·Pᵀ row by row: a fast path in GEMMs and its plain
/// double-precision reference. Fitted elsewhere (Metrics.FeatureWhitening); one implementation
/// here serves TEMI's input whitening and the feature-conditioned runs' map.
/// </summary>
public static class CentredProjection
{
    /// <summary>Rows per GEMM of <see cref="Apply"/>: bounds the centred copy's memory on large sets.</summary>
    private const int ChunkRows = 8192;

    /// <summary>
    /// (x − μ)·Pᵀ for row-major <paramref name="x"/> [rows, D] with a <paramref name="mean"/> [D] and a
    /// <paramref name="projection"/> [d, D] (e.g. a PCA whitening's rows v_k/√λ_k): [rows, d], in float GEMMs of
    /// 8 192 rows. Agrees with <see cref="ApplyReference"/> to float rounding (tested).
    /// </summary>
    public static float[] Apply(ReadOnlySpan<float> x, int rows, float[] mean, float[] projection)
    {
        int dIn = mean.Length, dOut = CheckShapes(x, rows, mean, projection);
        var result = new float[(long)rows * dOut];
        var p = new Tensor(projection, dOut, dIn);
        var mu = new Tensor(mean, dIn);
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < rows; start += ChunkRows)
        {
            int n = Math.Min(ChunkRows, rows - start);
            var chunk = new Tensor(x.Slice(start * dIn, n * dIn).ToArray(), n, dIn);
            Tensor.Linear(chunk - mu, p).Data.CopyTo(result, (long)start * dOut);
        }
        return result;
    }

    /// <summary>
    /// The plain reference of <see cref="Apply"/>: each output a double-precision dot product of the centred row and a
    /// projection row. Feature-conditioned runs whiten with it, so their saved runs' conditions stay bit for bit.
    /// </summary>
    public static float[] ApplyReference(ReadOnlySpan<float> x, int rows, float[] mean, float[] projection)
    {
        int dIn = mean.Length, dOut = CheckShapes(x, rows, mean, projection);
        var z = new float[(long)rows * dOut];
        var centred = new double[dIn];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < dIn; j++) centred[j] = x[i * dIn + j] - mean[j];
            for (int k = 0; k < dOut; k++)
            {
                double v = 0;
                var p = projection.AsSpan(k * dIn, dIn);
                for (int j = 0; j < dIn; j++) v += p[j] * centred[j];
                z[(long)i * dOut + k] = (float)v;
            }
        }
        return z;
    }

    private static int CheckShapes(ReadOnlySpan<float> x, int rows, float[] mean, float[] projection)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(projection);
        if (mean.Length == 0 || projection.Length % mean.Length != 0)
            throw new ArgumentException($"a projection of {projection.Length} values does not fit a mean of {mean.Length}");
        if (x.Length != (long)rows * mean.Length) throw new ArgumentException($"expected {rows}x{mean.Length} feature values, got {x.Length}");
        return projection.Length / mean.Length;
    }
}
