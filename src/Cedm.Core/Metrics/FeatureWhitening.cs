namespace Cedm.Metrics;

/// <summary>
/// PCA whitening of a feature matrix (related-seeds B.3 item 1: "PCA-whiten them to d ≈ 32–128"): the top-d
/// eigenvectors of the unbiased covariance (N−1, as scikit-learn's PCA), each divided by the square root of its
/// eigenvalue, so the whitened features have zero mean and identity covariance on the fitting set. Applied by
/// <see cref="Cedm.Tensors.CentredProjection"/>. The same
/// eigen-solver and sign rule as <see cref="Cedm.Features.PcaFeatures"/> (each component's largest-magnitude entry is positive).
/// </summary>
public static class FeatureWhitening
{
    /// <summary>Eigenvalues below this fraction of the largest are floored there (a flat direction is not blown up).</summary>
    public const double RelativeFloor = 1e-10;

    /// <summary>
    /// Fits the whitening of <paramref name="x"/> (row-major [N, D]) to <paramref name="d"/> dimensions: the mean [D],
    /// the projection [d, D] (rows v_k/√λ_k) and the eigenvalues λ_1 ≥ … ≥ λ_d.
    /// </summary>
    public static (float[] Mean, float[] Projection, double[] Eigenvalues) Fit(ReadOnlySpan<float> x, int n, int dIn, int d)
    {
        if (n < 2) throw new ArgumentException($"whitening needs at least 2 feature rows, got {n}");
        if (d < 1 || d > dIn) throw new ArgumentOutOfRangeException(nameof(d), d, $"whitened dimension must be between 1 and the feature dimension {dIn}");
        var stats = FeatureStatistics.FromFeatures(x, n, dIn);
        var (values, vt) = SymmetricEigen.Decompose(stats.Covariance(), dIn);   // ascending
        double top = Math.Max(values[^1], double.Epsilon);
        var projection = new float[(long)d * dIn];
        var eig = new double[d];
        for (int k = 0; k < d; k++)
        {
            int src = dIn - 1 - k;
            eig[k] = Math.Max(values[src], top * RelativeFloor);
            var row = vt.AsSpan(src * dIn, dIn);
            int arg = 0;
            for (int j = 1; j < dIn; j++) if (Math.Abs(row[j]) > Math.Abs(row[arg])) arg = j;
            double sign = row[arg] < 0 ? -1 : 1, scale = sign / Math.Sqrt(eig[k]);
            for (int j = 0; j < dIn; j++) projection[(long)k * dIn + j] = (float)(row[j] * scale);
        }
        return (stats.Mean().Select(v => (float)v).ToArray(), projection, eig);
    }
}
