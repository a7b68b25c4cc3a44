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
            // sklearn init_params="kmeans": one k-means++ run, its labels as hard responsibilities.
            var km = KMeans.Run(x, n, d, new KMeansOptions { K = Options.K, NInit = 1 }, rng);
            var (res, logResp) = FitFrom(x, n, d, km.Labels, progress is null ? null : f => progress.Report((r + f) / Options.NInit));
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

    /// <summary>EM from a hard labelling (the first M-step takes the labels as responsibilities); also the benchmark's same-start entry.</summary>
    internal (GmmResult Result, double[] LogResp) FitFrom(float[] x, int n, int d, int[] labels, Action<double>? progress)
    {
        int k = Options.K;
        _shift = new float[d];
        var mean = new double[d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) mean[j] += x[i * d + j];
        for (int j = 0; j < d; j++) _shift[j] = (float)(mean[j] / n);
        var resp = new double[(long)n * k];
        for (int i = 0; i < n; i++) resp[(long)i * k + labels[i]] = 1;
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

    private float[] _shift = [];

    /// <summary>
    /// n_k = Σ_i r_ik, m1 = Σ_i r_ik (x_i − s), and (diag) m2 = Σ_i r_ik (x_i − s)² with s the data mean: float32 GEMMs
    /// rᵀ[x − s, (x − s)²] per row block, accumulated in float64 across blocks.
    /// </summary>
    private (double[] Nk, double[] M1, double[] M2) Moments(float[] x, int n, int d, float[] r, int k, bool squares)
    {
        int cols = squares ? 2 * d : d;
        var nk = new double[k];
        var acc = new double[k * cols];
        int block = Math.Min(n, Distances.BlockRows);
        var a = new float[block * cols];
        var g = new float[k * cols];
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start), s0 = start;
            Parallelism.For(rows, (s, len) =>
            {
                for (int q = s; q < s + len; q++)
                {
                    var dst = a.AsSpan(q * cols, cols);
                    System.Numerics.Tensors.TensorPrimitives.Subtract(x.AsSpan((s0 + q) * d, d), _shift, dst[..d]);
                    if (squares) System.Numerics.Tensors.TensorPrimitives.Multiply(dst[..d], dst[..d], dst[d..]);
                }
            }, minChunk: 1024);
            var rb = r.AsSpan(start * k, rows * k);
            Gemm.Sgemm(true, false, k, cols, rows, 1f, rb, k, a.AsSpan(0, rows * cols), cols, 0f, g, cols);
            for (int i = 0; i < g.Length; i++) acc[i] += g[i];
            for (int q = 0; q < rows; q++)
                for (int c = 0; c < k; c++) nk[c] += rb[q * k + c];
        }
        var m1 = new double[k * d];
        var m2 = squares ? new double[k * d] : [];
        for (int c = 0; c < k; c++)
            for (int j = 0; j < d; j++)
            {
                m1[c * d + j] = acc[c * cols + j];
                if (squares) m2[c * d + j] = acc[c * cols + d + j];
            }
        return (nk, m1, m2);
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
        bool diag = Options.Covariance == CovarianceType.Diag;
        var (nkTot, m1, m2) = Moments(x, n, d, r, k, diag);
        // sklearn adds 10·eps so an empty component does not divide by zero.
        for (int c = 0; c < k; c++) nkTot[c] += 10 * 2.220446049250313e-16;
        var means = new double[k * d];
        for (int c = 0; c < k; c++)
            for (int j = 0; j < d; j++) means[c * d + j] = m1[c * d + j] / nkTot[c] + _shift[j];

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
            // Var = E[(x − s)²] − (E[x − s])², on data shifted by the global mean s (sklearn's expansion, less cancellation).
            cov = new double[k * d];
            for (int c = 0; c < k; c++)
                for (int j = 0; j < d; j++)
                {
                    double e1 = m1[c * d + j] / nkTot[c];
                    cov[c * d + j] = Math.Max(0, m2[c * d + j] / nkTot[c] - e1 * e1) + Options.RegCovar;
                }
        }
        var weights = nkTot.Select(v => v / n).ToArray();
        return new GmmModel(Options.Covariance, weights, means, cov, k, d);
    }
}
