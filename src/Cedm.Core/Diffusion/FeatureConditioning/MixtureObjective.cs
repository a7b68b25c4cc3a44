namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// Losses of a point e ∈ R^d (an auxiliary classifier's output in the whitened feature space) against a fitted
/// <see cref="FeatureMixture"/>, with their gradients in closed form (docs/feature-conditioning.md, "NGMG"):
/// <list type="bullet">
/// <item><b>NGMG</b> (our interpretation of related-seeds B.3 item 4): L = −log Σ_{j∈S} π_j N(e; μ_j, Σ_j) over the target
/// components S (one cluster y by default); ∇_e L = Σ_{j∈S} w_j Σ_j⁻¹(e − μ_j), w = the responsibilities within S.
/// The pull grows with the Mahalanobis distance to the target and never saturates.</item>
/// <item><b>CE</b> on the mixture's posterior: L = −log p(y | e), p(k | e) ∝ π_k N(e; μ_k, Σ_k);
/// ∇_e L = Σ_y⁻¹(e − μ_y) − Σ_k p(k | e) Σ_k⁻¹(e − μ_k), which vanishes once p(y | e) → 1 however far e is from μ_y.</item>
/// </list>
/// Densities are evaluated in float64 with a Cholesky factor of each Σ_k (computed once).
/// </summary>
public sealed class MixtureObjective
{
    private readonly FeatureMixture _m;
    private readonly double[][] _chol;     // lower-triangular L_k, Σ_k = L_k L_kᵀ
    private readonly double[] _logNorm;    // log π_k − ½ log|Σ_k| − (d/2) log 2π

    public MixtureObjective(FeatureMixture mixture)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        _m = mixture;
        int d = mixture.Dimension;
        _chol = new double[mixture.K][];
        _logNorm = new double[mixture.K];
        for (int k = 0; k < mixture.K; k++)
        {
            _chol[k] = Cholesky(mixture.Covariance(k), d, k);
            double logDet = 0;
            for (int i = 0; i < d; i++) logDet += 2 * Math.Log(_chol[k][i * d + i]);
            _logNorm[k] = Math.Log(mixture.Weights[k]) - 0.5 * logDet - 0.5 * d * Math.Log(2 * Math.PI);
        }
    }

    public FeatureMixture Mixture => _m;

    /// <summary>log π_k + log N(e; μ_k, Σ_k), and Σ_k⁻¹(e − μ_k) into <paramref name="precisionTimesDiff"/>.</summary>
    public double LogJoint(int k, ReadOnlySpan<double> e, Span<double> precisionTimesDiff)
    {
        int d = _m.Dimension;
        var l = _chol[k];
        Span<double> y = d <= 512 ? stackalloc double[d] : new double[d];
        // Solve L y = e − μ (forward), then Lᵀ v = y (backward): v = Σ⁻¹(e − μ), m = ‖y‖².
        double m = 0;
        for (int i = 0; i < d; i++)
        {
            double s = e[i] - _m.Means[k * d + i];
            for (int j = 0; j < i; j++) s -= l[i * d + j] * y[j];
            y[i] = s / l[i * d + i];
            m += y[i] * y[i];
        }
        for (int i = d - 1; i >= 0; i--)
        {
            double s = y[i];
            for (int j = i + 1; j < d; j++) s -= l[j * d + i] * precisionTimesDiff[j];
            precisionTimesDiff[i] = s / l[i * d + i];
        }
        return _logNorm[k] - 0.5 * m;
    }

    /// <summary>NGMG: L = −log Σ_{j∈targets} π_j N(e; μ_j, Σ_j); its gradient wrt e into <paramref name="grad"/>.</summary>
    public double Ngmg(ReadOnlySpan<double> e, ReadOnlySpan<int> targets, Span<double> grad)
    {
        if (targets.Length == 0) throw new ArgumentException("NGMG needs at least one target component", nameof(targets));
        int d = _m.Dimension;
        var a = new double[targets.Length];
        var v = new double[targets.Length * d];
        for (int t = 0; t < targets.Length; t++) a[t] = LogJoint(targets[t], e, v.AsSpan(t * d, d));
        double lse = LogSumExp(a);
        grad[..d].Clear();
        for (int t = 0; t < targets.Length; t++)
        {
            double w = Math.Exp(a[t] - lse);
            for (int i = 0; i < d; i++) grad[i] += w * v[t * d + i];
        }
        return -lse;
    }

    /// <summary>CE on the mixture posterior: L = −log p(y | e); its gradient wrt e into <paramref name="grad"/>.</summary>
    public double CrossEntropy(ReadOnlySpan<double> e, int target, Span<double> grad)
    {
        int d = _m.Dimension, k = _m.K;
        var a = new double[k];
        var v = new double[k * d];
        for (int j = 0; j < k; j++) a[j] = LogJoint(j, e, v.AsSpan(j * d, d));
        double lse = LogSumExp(a);
        for (int i = 0; i < d; i++)
        {
            double g = v[target * d + i];
            for (int j = 0; j < k; j++) g -= Math.Exp(a[j] - lse) * v[j * d + i];
            grad[i] = g;
        }
        return lse - a[target];
    }

    /// <summary>The component of highest posterior at <paramref name="e"/> (the first on a tie) and that posterior.</summary>
    public (int Component, double Posterior) MostLikely(ReadOnlySpan<double> e)
    {
        var p = Posterior(e);
        int best = Array.IndexOf(p, p.Max());
        return (best, p[best]);
    }

    /// <summary>p(k | e) for every component.</summary>
    public double[] Posterior(ReadOnlySpan<double> e)
    {
        int d = _m.Dimension;
        var a = new double[_m.K];
        var v = new double[d];
        for (int j = 0; j < _m.K; j++) a[j] = LogJoint(j, e, v);
        double lse = LogSumExp(a);
        return a.Select(x => Math.Exp(x - lse)).ToArray();
    }

    private static double LogSumExp(ReadOnlySpan<double> a)
    {
        double max = double.NegativeInfinity;
        foreach (double x in a) max = Math.Max(max, x);
        double s = 0;
        foreach (double x in a) s += Math.Exp(x - max);
        return max + Math.Log(s);
    }

    private static double[] Cholesky(double[] a, int d, int component)
    {
        var l = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = a[i * d + j];
                for (int p = 0; p < j; p++) s -= l[i * d + p] * l[j * d + p];
                if (i == j)
                {
                    if (!(s > 0)) throw new ArgumentException($"component {component}: covariance is not positive definite");
                    l[i * d + i] = Math.Sqrt(s);
                }
                else l[i * d + j] = s / l[j * d + j];
            }
        return l;
    }
}
