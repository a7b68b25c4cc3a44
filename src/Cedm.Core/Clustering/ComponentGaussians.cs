using Cedm.Metrics;

namespace Cedm.Clustering;

/// <summary>The per-component Gaussians fitted by <see cref="ComponentGaussians.Fit"/>: Σ_k = W_k W_kᵀ + diag(ψ_k).</summary>
/// <param name="Weights">π_k = N_k / N, [K].</param>
/// <param name="Means">μ_k, row-major [K, d].</param>
/// <param name="Diagonal">ψ_k, row-major [K, d].</param>
/// <param name="Factors">W_k, row-major [K, d, r] (empty for r = 0).</param>
public sealed record GaussianComponents(int K, int Dimension, int Rank, double[] Weights, double[] Means, double[] Diagonal, double[] Factors);

/// <summary>How <see cref="ComponentGaussians.Fit"/> models each component's covariance.</summary>
/// <param name="Rank">0: diagonal; r ≥ 1: a rank-r factor plus an isotropic remainder (probabilistic PCA per component).</param>
/// <param name="Shrinkage">λ ∈ [0, 1]: Σ ← (1−λ)·S + λ·(tr S/d)·I before the structure is imposed (keeps small clusters well conditioned).</param>
/// <param name="Floor">Added to every diagonal entry (scikit-learn's reg_covar; its default 1e-6).</param>
public sealed record CovarianceModel(int Rank = 0, double Shrinkage = 0, double Floor = 1e-6);

/// <summary>
/// The M-step of a Gaussian mixture with given responsibilities (related-seeds B.3 item 1: per-cluster Gaussians in
/// feature space; hard k-means ids are one-hot responsibilities, GMM or TEMI probabilities soft ones):
/// N_k = Σ_i r_ik, π_k = N_k/N, μ_k = Σ r_ik z_i / N_k, S_k = Σ r_ik (z_i − μ_k)(z_i − μ_k)ᵀ / N_k — the maximum-likelihood
/// estimates scikit-learn's GaussianMixture computes — then shrinkage and the structure of <see cref="CovarianceModel"/>:
/// diagonal ψ = diag(S) or, with rank r, the top-r eigenpairs (λ_j, v_j) of S give W = [v_j √(λ_j − σ²)] and ψ = σ²·1 with
/// σ² the mean of the remaining d − r eigenvalues (0 when r = d, where W Wᵀ = S exactly).
/// </summary>
public static class ComponentGaussians
{
    public static GaussianComponents Fit(ReadOnlySpan<float> z, int n, int d, ReadOnlySpan<float> responsibilities, int k, CovarianceModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (z.Length != (long)n * d) throw new ArgumentException($"expected {n}x{d} values, got {z.Length}", nameof(z));
        if (responsibilities.Length != (long)n * k) throw new ArgumentException($"expected {n}x{k} responsibilities, got {responsibilities.Length}", nameof(responsibilities));
        if (model.Rank < 0 || model.Rank > d) throw new ArgumentOutOfRangeException(nameof(model), model.Rank, $"rank must be between 0 and d = {d}");
        if (!(model.Shrinkage >= 0 && model.Shrinkage <= 1)) throw new ArgumentOutOfRangeException(nameof(model), model.Shrinkage, "shrinkage must be in [0, 1]");
        int r = model.Rank;
        var weights = new double[k];
        var means = new double[k * d];
        var diagonal = new double[k * d];
        var factors = new double[k * d * r];
        var cov = new double[d * d];
        for (int c = 0; c < k; c++)
        {
            double nk = 0;
            var mu = means.AsSpan(c * d, d);
            for (int i = 0; i < n; i++)
            {
                double w = responsibilities[i * k + c];
                nk += w;
                for (int j = 0; j < d; j++) mu[j] += w * z[i * d + j];
            }
            if (!(nk > 0)) throw new ArgumentException($"component {c} has no responsibility mass", nameof(responsibilities));
            for (int j = 0; j < d; j++) mu[j] /= nk;
            weights[c] = nk / n;
            Array.Clear(cov);
            var diff = new double[d];
            for (int i = 0; i < n; i++)
            {
                double w = responsibilities[i * k + c];
                if (w == 0) continue;
                for (int j = 0; j < d; j++) diff[j] = z[i * d + j] - mu[j];
                for (int a = 0; a < d; a++)
                {
                    double wa = w * diff[a];
                    for (int b = a; b < d; b++) cov[a * d + b] += wa * diff[b];
                }
            }
            double trace = 0;
            for (int a = 0; a < d; a++)
            {
                trace += cov[a * d + a] / nk;
                for (int b = a; b < d; b++)
                {
                    double v = cov[a * d + b] / nk * (1 - model.Shrinkage);
                    cov[a * d + b] = v;
                    cov[b * d + a] = v;
                }
            }
            for (int a = 0; a < d; a++) cov[a * d + a] += model.Shrinkage * trace / d;
            var psi = diagonal.AsSpan(c * d, d);
            if (r == 0)
            {
                for (int a = 0; a < d; a++) psi[a] = cov[a * d + a] + model.Floor;
                continue;
            }
            var (values, vt) = SymmetricEigen.Decompose(cov, d);   // ascending
            double rest = 0;
            for (int j = 0; j < d - r; j++) rest += Math.Max(values[j], 0);
            double sigma2 = d > r ? rest / (d - r) : 0;
            for (int j = 0; j < r; j++)
            {
                int src = d - 1 - j;
                double scale = Math.Sqrt(Math.Max(values[src] - sigma2, 0));
                for (int a = 0; a < d; a++) factors[(c * d + a) * r + j] = vt[src * d + a] * scale;
            }
            for (int a = 0; a < d; a++) psi[a] = sigma2 + model.Floor;
        }
        return new GaussianComponents(k, d, r, weights, means, diagonal, factors);
    }
}
