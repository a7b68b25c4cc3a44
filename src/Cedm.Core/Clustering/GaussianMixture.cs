using System.Text.Json.Nodes;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Clustering;

/// <summary>One EM fit: the model, its mean log-likelihood on the training data, the lower bound per iteration.</summary>
public sealed record GmmResult(GmmModel Model, double MeanLogLikelihood, IReadOnlyList<double> LowerBounds, int Iterations, bool Converged);

/// <summary>
/// Gaussian mixture by EM (spec §4.6 baseline), following sklearn's GaussianMixture: responsibilities from a k-means
/// labelling start the first M-step, then E-step (log-sum-exp responsibilities, mean log-likelihood = lower bound) and
/// M-step (weights, means, covariances + RegCovar·I) until the lower bound changes by less than Tol; a final E-step
/// gives the labels. Soft method: probabilities = responsibilities, confidence = max responsibility.
/// Heavy products ((x − μ)·P in the E-step, Σ r (x − μ)(x − μ)ᵀ in the M-step) run as float32 GEMMs on centred data;
/// sums, Cholesky factors, log-determinants and log-sum-exp are float64.
/// </summary>
public sealed class GaussianMixture(GaussianMixtureOptions options) : IClusterer
{
    public GaussianMixtureOptions Options { get; } = options;

    public string Method => "gmm";

    public GmmResult? Result { get; private set; }

    public ClusterAssignment Fit(Tensor features, Rng rng, IProgress<double>? progress = null)
    {
        var (n, d) = FeatureMatrix.Check(features, Options.K);
        Options.Validate();
        var x = features.Data;
        int k = Options.K;
        GmmResult? best = null;
        double[]? bestResp = null;
        for (int run = 0; run < Options.NInit; run++)
        {
            int r = run;
            var (res, logResp) = FitOnce(x, n, d, rng, progress is null ? null : f => progress.Report((r + f) / Options.NInit));
            if (best is null || res.MeanLogLikelihood > best.MeanLogLikelihood) { best = res; bestResp = logResp; }
        }
        progress?.Report(1.0);
        Result = best!;
        var ids = new int[n];
        var conf = new float[n];
        var probs = new float[(long)n * k];
        for (int i = 0; i < n; i++)
        {
            int arg = 0;
            for (int c = 0; c < k; c++)
            {
                double lr = bestResp![(long)i * k + c];
                probs[(long)i * k + c] = (float)Math.Exp(lr);
                if (lr > bestResp[(long)i * k + arg]) arg = c;
            }
            ids[i] = arg;
            conf[i] = probs[(long)i * k + arg];
        }
        var json = new JsonObject
        {
            ["k"] = k, ["covariance"] = Options.Covariance == CovarianceType.Full ? "full" : "diag",
            ["max_iter"] = Options.MaxIter, ["tol"] = Options.Tol, ["reg_covar"] = Options.RegCovar, ["n_init"] = Options.NInit,
            ["init"] = "kmeans", ["mean_log_likelihood"] = best!.MeanLogLikelihood, ["iterations"] = best.Iterations,
            ["converged"] = best.Converged,
        };
        return new ClusterAssignment(Method, k, ids, conf, probs, json);
    }

    private (GmmResult, double[]) FitOnce(float[] x, int n, int d, Rng rng, Action<double>? progress)
    {
        int k = Options.K;
        // sklearn init_params="kmeans": one k-means++ run, its labels as hard responsibilities.
        var km = KMeans.Run(x, n, d, new KMeansOptions { K = k, NInit = 1 }, rng);
        var resp = new double[(long)n * k];
        for (int i = 0; i < n; i++) resp[(long)i * k + km.Labels[i]] = 1;
        var model = MStep(x, n, d, resp, logResp: false);

        var bounds = new List<double>();
        double lower = double.NegativeInfinity;
        bool converged = false;
        int iter = 0;
        while (iter < Options.MaxIter)
        {
            iter++;
            double prev = lower;
            lower = model.EStep(x, n, resp);
            bounds.Add(lower);
            model = MStep(x, n, d, resp, logResp: true);
            progress?.Invoke((double)iter / Options.MaxIter);
            if (Math.Abs(lower - prev) < Options.Tol) { converged = true; break; }
        }
        double meanLogLik = model.EStep(x, n, resp);
        return (new GmmResult(model, meanLogLik, bounds, iter, converged), resp);
    }

    /// <summary>Weights, means and covariances from responsibilities (given as log-responsibilities when logResp).</summary>
    private GmmModel MStep(float[] x, int n, int d, double[] resp, bool logResp)
    {
        int k = Options.K;
        var r = new float[(long)n * k];
        Parallelism.For(n * k, (s, len) =>
        {
            for (int i = s; i < s + len; i++) r[i] = (float)(logResp ? Math.Exp(resp[i]) : resp[i]);
        });
        // nk and Σ r x in float64, rows split over threads.
        int workers = Math.Max(1, Math.Min(ComputeSettings.Threads, n / 2048));
        var nkParts = new double[workers][];
        var sxParts = new double[workers][];
        int chunk = (n + workers - 1) / workers;
        Parallel.For(0, workers, ComputeSettings.ParallelOptions, w =>
        {
            var nk = nkParts[w] = new double[k];
            var sx = sxParts[w] = new double[k * d];
            int end = Math.Min(n, (w + 1) * chunk);
            for (int i = w * chunk; i < end; i++)
                for (int c = 0; c < k; c++)
                {
                    double rv = r[(long)i * k + c];
                    if (rv == 0) continue;
                    nk[c] += rv;
                    int o = c * d, xo = i * d;
                    for (int j = 0; j < d; j++) sx[o + j] += rv * x[xo + j];
                }
        });
        var nkTot = new double[k];
        var means = new double[k * d];
        for (int w = 0; w < workers; w++)
        {
            for (int c = 0; c < k; c++) nkTot[c] += nkParts[w][c];
            for (int i = 0; i < k * d; i++) means[i] += sxParts[w][i];
        }
        // sklearn adds 10·eps so an empty component does not divide by zero.
        for (int c = 0; c < k; c++) nkTot[c] += 10 * 2.220446049250313e-16;
        for (int c = 0; c < k; c++)
            for (int j = 0; j < d; j++) means[c * d + j] /= nkTot[c];

        double[] cov;
        if (Options.Covariance == CovarianceType.Full)
        {
            cov = new double[k * d * d];
            int block = Math.Min(n, Distances.BlockRows);
            var wbuf = new float[block * d];
            var acc = new float[d * d];
            var mu = new float[d];
            for (int c = 0; c < k; c++)
            {
                for (int j = 0; j < d; j++) mu[j] = (float)means[c * d + j];
                var covC = cov.AsSpan(c * d * d, d * d);
                for (int start = 0; start < n; start += block)
                {
                    int rows = Math.Min(block, n - start), s0 = start, cc = c;
                    // W = √r · (x − μ); Σ_c += WᵀW (one GEMM per block, accumulated in float64 across blocks).
                    Parallelism.For(rows, (s, len) =>
                    {
                        for (int q = s; q < s + len; q++)
                        {
                            float sr = MathF.Sqrt(r[(long)(s0 + q) * k + cc]);
                            var dst = wbuf.AsSpan(q * d, d);
                            System.Numerics.Tensors.TensorPrimitives.Subtract(x.AsSpan((s0 + q) * d, d), mu, dst);
                            System.Numerics.Tensors.TensorPrimitives.Multiply(dst, sr, dst);
                        }
                    }, minChunk: 1024);
                    Gemm.Sgemm(true, false, d, d, rows, 1f, wbuf.AsSpan(0, rows * d), d, wbuf.AsSpan(0, rows * d), d, 0f, acc, d);
                    for (int i = 0; i < d * d; i++) covC[i] += acc[i];
                }
                // Symmetrise (GEMM round-off), normalise and regularise.
                for (int i = 0; i < d; i++)
                {
                    covC[i * d + i] = covC[i * d + i] / nkTot[c] + Options.RegCovar;
                    for (int j = i + 1; j < d; j++)
                        covC[i * d + j] = covC[j * d + i] = 0.5 * (covC[i * d + j] + covC[j * d + i]) / nkTot[c];
                }
            }
        }
        else
        {
            var parts = new double[workers][];
            Parallel.For(0, workers, ComputeSettings.ParallelOptions, w =>
            {
                var acc = parts[w] = new double[k * d];
                int end = Math.Min(n, (w + 1) * chunk);
                for (int i = w * chunk; i < end; i++)
                    for (int c = 0; c < k; c++)
                    {
                        double rv = r[(long)i * k + c];
                        if (rv == 0) continue;
                        int o = c * d, xo = i * d;
                        for (int j = 0; j < d; j++) { double v = x[xo + j] - means[o + j]; acc[o + j] += rv * v * v; }
                    }
            });
            cov = new double[k * d];
            for (int w = 0; w < workers; w++)
                for (int i = 0; i < k * d; i++) cov[i] += parts[w][i];
            for (int c = 0; c < k; c++)
                for (int j = 0; j < d; j++) cov[c * d + j] = cov[c * d + j] / nkTot[c] + Options.RegCovar;
        }
        var weights = nkTot.Select(v => v / n).ToArray();
        return new GmmModel(Options.Covariance, weights, means, cov, k, d);
    }
}
