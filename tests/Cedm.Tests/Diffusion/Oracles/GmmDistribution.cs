using Cedm.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace Cedm.Tests.Diffusion.Oracles;

/// <summary>
/// A Gaussian mixture Σ_k π_k N(μ_k, Σ_k) in D dimensions: a data distribution whose ideal denoiser has a closed
/// form (<see cref="ExactGmmDenoiser"/>), used to test samplers apart from any training.
/// </summary>
internal sealed class GmmDistribution
{
    public GmmDistribution(double[] weights, double[][] means, double[][,] covariances)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int k = weights.Length;
        if (k == 0 || means.Length != k || covariances.Length != k) throw new ArgumentException("Need the same number (≥ 1) of weights, means and covariances.");
        if (weights.Any(w => !(w >= 0)) || Math.Abs(weights.Sum() - 1) > 1e-9) throw new ArgumentException("Weights must be ≥ 0 and sum to 1.", nameof(weights));
        int d = means[0].Length;
        Cholesky = new Matrix<double>[k];
        for (int c = 0; c < k; c++)
        {
            if (means[c].Length != d || covariances[c].GetLength(0) != d || covariances[c].GetLength(1) != d)
                throw new ArgumentException($"Component {c}: mean or covariance is not {d}-dimensional.");
            var cov = Matrix<double>.Build.DenseOfArray(covariances[c]);
            if (!cov.IsSymmetric()) throw new ArgumentException($"Component {c}: covariance is not symmetric.", nameof(covariances));
            Cholesky[c] = cov.Cholesky().Factor; // throws when not positive definite
        }
        Weights = weights; Means = means; Covariances = covariances; Dimension = d;
    }

    public double[] Weights { get; }
    public double[][] Means { get; }
    public double[][,] Covariances { get; }
    public int Dimension { get; }
    public int Components => Weights.Length;

    /// <summary>Lower Cholesky factors L_k (Σ_k = L_k L_kᵀ).</summary>
    internal Matrix<double>[] Cholesky { get; }

    /// <summary>n draws (rows of [n, D]) and the component of each.</summary>
    public (double[][] X, int[] Component) Sample(Rng rng, int n)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var x = new double[n][];
        var comp = new int[n];
        for (int i = 0; i < n; i++)
        {
            double u = rng.NextDouble(), acc = 0;
            int c = 0;
            while (c < Components - 1 && (acc += Weights[c]) <= u) c++;
            var z = Vector<double>.Build.Dense(Dimension, _ => rng.NextNormal());
            var xi = Cholesky[c] * z;
            x[i] = xi.Select((v, j) => v + Means[c][j]).ToArray();
            comp[i] = c;
        }
        return (x, comp);
    }

    /// <summary>
    /// Posterior responsibilities p(k | y) for data y observed with isotropic Gaussian noise of std σ
    /// (σ = 0: the mixture itself), weighted by <paramref name="prior"/> (default π).
    /// </summary>
    public double[] Responsibilities(ReadOnlySpan<double> y, double sigma, ReadOnlySpan<double> prior = default)
    {
        var noisy = NoisyComponents(sigma);
        var logw = new double[Components];
        for (int c = 0; c < Components; c++) logw[c] = Math.Log(prior.IsEmpty ? Weights[c] : prior[c]) + noisy[c].LogDensity(y);
        return SoftmaxInPlace(logw);
    }

    /// <summary>Each component convolved with N(0, σ²I): its inverse covariance, log-normaliser and Σ_k(Σ_k + σ²I)⁻¹.</summary>
    internal NoisyComponent[] NoisyComponents(double sigma)
    {
        var result = new NoisyComponent[Components];
        var eye = Matrix<double>.Build.DenseIdentity(Dimension);
        for (int c = 0; c < Components; c++)
        {
            var cov = Matrix<double>.Build.DenseOfArray(Covariances[c]);
            var a = cov + eye * (sigma * sigma);
            var chol = a.Cholesky();
            var inv = chol.Solve(eye);
            double logNorm = -0.5 * (Dimension * Math.Log(2 * Math.PI) + chol.DeterminantLn);
            result[c] = new NoisyComponent(Means[c], inv.ToArray(), logNorm, (cov * inv).ToArray());
        }
        return result;
    }

    internal static double[] SoftmaxInPlace(double[] logw)
    {
        double max = logw.Max(), sum = 0;
        for (int c = 0; c < logw.Length; c++) sum += logw[c] = double.IsNegativeInfinity(logw[c]) ? 0 : Math.Exp(logw[c] - max);
        for (int c = 0; c < logw.Length; c++) logw[c] /= sum;
        return logw;
    }

    internal sealed record NoisyComponent(double[] Mean, double[,] Inverse, double LogNorm, double[,] Gain)
    {
        public double LogDensity(ReadOnlySpan<double> y)
        {
            int d = Mean.Length;
            double q = 0;
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) q += (y[i] - Mean[i]) * Inverse[i, j] * (y[j] - Mean[j]);
            return LogNorm - 0.5 * q;
        }
    }
}
