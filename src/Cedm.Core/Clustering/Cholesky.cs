namespace Cedm.Clustering;

/// <summary>Small dense Cholesky helpers in float64 for the D×D covariances of the GMM.</summary>
internal static class Cholesky
{
    /// <summary>Returns L⁻¹ (lower triangular, row-major D×D) for Σ = L Lᵀ; throws when Σ is not positive definite.</summary>
    public static double[] InverseFactor(ReadOnlySpan<double> cov, int d, int component)
    {
        var l = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = cov[i * d + j];
                for (int p = 0; p < j; p++) s -= l[i * d + p] * l[j * d + p];
                if (i == j)
                {
                    if (!(s > 0))
                        throw new InvalidOperationException(
                            $"GMM component {component}: covariance is not positive definite (pivot {s:G3} at {i}); increase reg-covar");
                    l[i * d + i] = Math.Sqrt(s);
                }
                else l[i * d + j] = s / l[j * d + j];
            }
        }
        // Forward substitution column by column: L · inv = I.
        var inv = new double[d * d];
        for (int col = 0; col < d; col++)
        {
            for (int i = col; i < d; i++)
            {
                double s = i == col ? 1 : 0;
                for (int p = col; p < i; p++) s -= l[i * d + p] * inv[p * d + col];
                inv[i * d + col] = s / l[i * d + i];
            }
        }
        return inv;
    }
}
