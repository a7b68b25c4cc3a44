using Cedm.Tensors.Kernels;

namespace Cedm.Metrics;

/// <summary>
/// Fréchet distance between two Gaussians fitted to feature sets (spec §6.1; FID, Heusel et al. 2017):
/// FD = ‖μ1 − μ2‖² + Tr Σ1 + Tr Σ2 − 2 Tr((Σ1 Σ2)^{1/2}).
/// The trace of the square root uses the spec's symmetric-eigen method instead of scipy's Schur-based sqrtm:
/// Σ1 = U Λ Uᵀ (Λ clamped ≥ 0), then (Σ1Σ2)^{1/2} has the eigenvalues of Λ^{1/2} Uᵀ Σ2 U Λ^{1/2}, which is
/// symmetric positive semi-definite, so its eigenvalues come from a symmetric solver, are clamped ≥ 0 and their
/// square roots summed. Mathematically identical to sqrtm's trace; robust for singular (N &lt; D) covariances.
/// </summary>
public static class FrechetDistance
{
    /// <summary>FD from (μ, Σ) pairs: means length D, covariances row-major [D, D], float64.</summary>
    public static double FromStatistics(double[] mean1, double[] cov1, double[] mean2, double[] cov2)
    {
        int d = mean1.Length;
        if (mean2.Length != d || cov1.Length != (long)d * d || cov2.Length != (long)d * d)
            throw new ArgumentException($"Statistics do not match: μ1 [{mean1.Length}], μ2 [{mean2.Length}], Σ1 [{cov1.Length}], Σ2 [{cov2.Length}] values.");
        double meanTerm = 0, trace1 = 0, trace2 = 0;
        for (int i = 0; i < d; i++)
        {
            double diff = mean1[i] - mean2[i];
            meanTerm += diff * diff;
            trace1 += cov1[(long)i * d + i];
            trace2 += cov2[(long)i * d + i];
        }
        return meanTerm + trace1 + trace2 - 2 * TraceSqrtProduct(cov1, cov2, d);
    }

    /// <summary>FD of two feature matrices (float32 rows [N1, D] and [N2, D]) via float64 statistics.</summary>
    public static double FromFeatures(ReadOnlySpan<float> a, int rowsA, ReadOnlySpan<float> b, int rowsB, int dimension)
    {
        var sa = FeatureStatistics.FromFeatures(a, rowsA, dimension);
        var sb = FeatureStatistics.FromFeatures(b, rowsB, dimension);
        return FromStatistics(sa.Mean(), sa.Covariance(), sb.Mean(), sb.Covariance());
    }

    /// <summary>Tr((Σ1 Σ2)^{1/2}) for symmetric PSD Σ1, Σ2 (row-major d×d), by the method in the class summary.</summary>
    public static double TraceSqrtProduct(double[] cov1, double[] cov2, int d)
    {
        var sym1 = Symmetrised(cov1, d);
        var (lambda, ut) = SymmetricEigen.Decompose(sym1, d);   // ut: Uᵀ row-major [d, d]
        // T = Uᵀ Σ2 U
        var tmp = new double[(long)d * d];
        var t = new double[(long)d * d];
        GemmDouble.Dgemm(false, false, d, d, d, 1.0, ut, d, cov2, d, 0.0, tmp, d);
        GemmDouble.Dgemm(false, true, d, d, d, 1.0, tmp, d, ut, d, 0.0, t, d);
        // M = Λ^{1/2} T Λ^{1/2}, negatives of Λ (round-off on singular Σ1) clamped to 0.
        var root = lambda.Select(l => Math.Sqrt(Math.Max(l, 0))).ToArray();
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) t[(long)i * d + j] *= root[i] * root[j];
        var (mu, _) = SymmetricEigen.Decompose(Symmetrised(t, d), d);
        double sum = 0;
        foreach (double v in mu) sum += Math.Sqrt(Math.Max(v, 0));
        return sum;
    }

    /// <summary>(M + Mᵀ)/2: removes the asymmetry that round-off leaves, so the symmetric solver applies.</summary>
    private static double[] Symmetrised(double[] m, int d)
    {
        var s = new double[(long)d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                s[(long)i * d + j] = 0.5 * (m[(long)i * d + j] + m[(long)j * d + i]);
        return s;
    }
}
