using Cedm.Tensors;

namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// A Gaussian mixture in the whitened feature space of a feature-conditioned run (related-seeds B.3, our design): one
/// component per utilised cluster, Σ_k = W_k W_kᵀ + diag(ψ_k), weights π_k. <see cref="Draw"/> gives an exact draw of
/// N(μ_k, s²Σ_k) from r + d standard normals (z = μ_k + s·(W_k ε₁ + √ψ_k ⊙ ε₂)), so a seed fixes the draw.
/// The Diffusion layer sees only these arrays; the fit lives in <c>Cedm.Clustering.ComponentGaussians</c>.
/// </summary>
public sealed class FeatureMixture
{
    public FeatureMixture(int dimension, int rank, double[] weights, double[] means, double[] diagonal, double[] factors, long[] used)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int k = weights.Length;
        if (k < 1) throw new ArgumentException("a mixture needs at least one component", nameof(weights));
        if (means.Length != k * dimension || diagonal.Length != k * dimension || factors.Length != k * dimension * rank || used.Length != k)
            throw new ArgumentException($"mixture arrays do not match K = {k}, d = {dimension}, r = {rank}");
        if (diagonal.Any(v => !(v >= 0))) throw new ArgumentException("diagonal variances must be ≥ 0", nameof(diagonal));
        Dimension = dimension; Rank = rank; Weights = weights; Means = means; Diagonal = diagonal; Factors = factors; Used = used;
        double total = weights.Sum();
        _cumulative = new double[k];
        double run = 0;
        for (int i = 0; i < k; i++) _cumulative[i] = (run += weights[i]) / total;
    }

    private readonly double[] _cumulative;

    public int K => Weights.Length;
    public int Dimension { get; }
    public int Rank { get; }
    public double[] Weights { get; }
    public double[] Means { get; }
    public double[] Diagonal { get; }
    public double[] Factors { get; }

    /// <summary>Used[k] = the original cluster id of component k (as in label_map.json's "used").</summary>
    public long[] Used { get; }

    /// <summary>The component of an original cluster id, or −1.</summary>
    public int IndexOf(long original) => Array.IndexOf(Used, original);

    /// <summary>The first component whose cumulative weight exceeds <paramref name="u"/> ∈ [0, 1): a draw by π_k.</summary>
    public int Pick(double u)
    {
        int lo = 0, hi = K - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (_cumulative[mid] > u) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>μ_k written into <paramref name="dest"/> (the centroid mode).</summary>
    public void Mean(int k, Span<float> dest)
    {
        for (int j = 0; j < Dimension; j++) dest[j] = (float)Means[k * Dimension + j];
    }

    /// <summary>z ~ N(μ_k, s²Σ_k): r normals for the factor, then d for the diagonal, from <paramref name="rng"/>.</summary>
    public void Draw(int k, double temperature, Rng rng, Span<float> dest) => Between(k, k, 0, temperature, rng, dest);

    /// <summary>
    /// (1−t)·z_a + t·z_b, where z_a and z_b are draws of components a and b made from the SAME normals (so t moves
    /// one sample smoothly from a's region to b's; t = 0 is <see cref="Draw"/> of a, t = 1 that of b).
    /// </summary>
    public void Between(int a, int b, double t, double temperature, Rng rng, Span<float> dest)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int d = Dimension, r = Rank;
        Span<double> e1 = r <= 256 ? stackalloc double[r] : new double[r];
        for (int j = 0; j < r; j++) e1[j] = rng.NextNormal();
        for (int i = 0; i < d; i++)
        {
            double e2 = rng.NextNormal();
            double za = Sample(a, i, e1, e2, temperature), zb = a == b ? za : Sample(b, i, e1, e2, temperature);
            dest[i] = (float)((1 - t) * za + t * zb);
        }
    }

    private double Sample(int k, int i, ReadOnlySpan<double> e1, double e2, double s)
    {
        int d = Dimension, r = Rank;
        double v = 0;
        for (int j = 0; j < r; j++) v += Factors[(k * d + i) * r + j] * e1[j];
        v += Math.Sqrt(Diagonal[k * d + i]) * e2;
        return Means[k * d + i] + s * v;
    }

    /// <summary>Σ_k = W_k W_kᵀ + diag(ψ_k), row-major [d, d] (for tests and reports).</summary>
    public double[] Covariance(int k)
    {
        int d = Dimension, r = Rank;
        var c = new double[d * d];
        for (int a = 0; a < d; a++)
        {
            for (int b = 0; b < d; b++)
            {
                double v = 0;
                for (int j = 0; j < r; j++) v += Factors[(k * d + a) * r + j] * Factors[(k * d + b) * r + j];
                c[a * d + b] = v;
            }
            c[a * d + a] += Diagonal[k * d + a];
        }
        return c;
    }
}
