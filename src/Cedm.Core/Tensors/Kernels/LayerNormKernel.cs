using System.Numerics.Tensors;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// Layer normalisation over the last dimension (D) of x seen as [R, D] rows, per-feature affine γ, β [D].
/// Rows are independent and run in parallel; statistics are two-pass and in double per row.
/// Backward (per row, x̂ = (x − μ)·r, u = dy·γ): dx = r·(u − mean(u) − x̂·mean(u·x̂)), the same closed form as
/// <see cref="GroupNormKernel"/> with the group = one row; dγ = Σ_rows dy·x̂ and dβ = Σ_rows dy, accumulated per
/// worker chunk and added under a lock.
/// </summary>
internal static class LayerNormKernel
{
    public static void Forward(float[] x, float[] y, int rows, int d, float[]? gamma, float[]? beta, float eps, float[] mean, float[] rstd)
    {
        Parallelism.For(rows, (start, len) =>
        {
            for (int row = start; row < start + len; row++)
            {
                var xr = x.AsSpan(row * d, d);
                var (mu, r) = Stats(xr, eps);
                mean[row] = mu; rstd[row] = r;
                var dst = y.AsSpan(row * d, d);
                if (gamma == null && beta == null) NormMath.CentredAffine(xr, mu, r, 0f, dst);
                else
                {
                    NormMath.CentredAffine(xr, mu, r, 0f, dst);
                    if (gamma != null) TensorPrimitives.Multiply(dst, gamma, dst);
                    if (beta != null) TensorPrimitives.Add(dst, beta, dst);
                }
            }
        }, Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, d)));
    }

    public static void Backward(float[] x, float[] dy, float[]? gx, int rows, int d, float[]? gamma, float[] mean, float[] rstd,
        double[]? dGamma, double[]? dBeta)
    {
        var gate = new object();
        Parallelism.For(rows, (start, len) =>
        {
            var u = new float[d];
            var xh = new float[d];
            var pg = dGamma == null ? null : new double[d];
            var pb = dBeta == null ? null : new double[d];
            for (int row = start; row < start + len; row++)
            {
                var xr = x.AsSpan(row * d, d);
                var gr = dy.AsSpan(row * d, d);
                float mu = mean[row], r = rstd[row];
                NormMath.CentredAffine(xr, mu, r, 0f, xh);
                if (pb != null) for (int i = 0; i < d; i++) pb[i] += gr[i];
                if (pg != null) for (int i = 0; i < d; i++) pg[i] += gr[i] * xh[i];
                if (gx == null) continue;
                if (gamma != null) TensorPrimitives.Multiply(gr, gamma, u); else gr.CopyTo(u);
                float meanU = TensorPrimitives.Sum<float>(u) / d, meanUX = TensorPrimitives.Dot<float>(u, xh) / d;
                // dx = r·(u − meanU) − r·meanUX·x̂
                NormMath.CombineCentred(u, 1f, meanU, r, xh, 0f, -r * meanUX, 0f, gx.AsSpan(row * d, d));
            }
            lock (gate)
            {
                if (pg != null) for (int i = 0; i < d; i++) dGamma![i] += pg[i];
                if (pb != null) for (int i = 0; i < d; i++) dBeta![i] += pb[i];
            }
        }, Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, d)));
    }

    private static (float Mean, float Rstd) Stats(ReadOnlySpan<float> x, float eps)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i += NormMath.Chunk) sum += NormMath.SumShifted(x.Slice(i, Math.Min(NormMath.Chunk, x.Length - i)), x[0]);
        float mu = (float)(sum / x.Length);
        double ss = 0;
        for (int i = 0; i < x.Length; i += NormMath.Chunk) ss += NormMath.SumSquaredDeviation(x.Slice(i, Math.Min(NormMath.Chunk, x.Length - i)), mu);
        return (mu, (float)(1.0 / Math.Sqrt(ss / x.Length + eps)));
    }
}
