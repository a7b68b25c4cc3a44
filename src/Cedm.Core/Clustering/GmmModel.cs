using System.Globalization;
using Cedm.IO;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Clustering;

/// <summary>
/// A fitted Gaussian mixture: weights [K], means [K, D], covariances ([K, D, D] full or [K, D] diag), all float64 in
/// memory. The E-step works with the Cholesky factor L of each covariance: log N(x | μ, Σ) =
/// −½ (D ln 2π + ‖L⁻¹(x − μ)‖²) − Σ ln L_ii. Responsibilities are a log-sum-exp softmax over components.
/// Saved as model.safetensors (kind "gmm", covariance type in the metadata).
/// </summary>
public sealed class GmmModel : IClusterModel
{
    private readonly double[] _logDetPrec;   // Σ ln (1/L_ii) per component
    private readonly float[] _precChol;      // full: (L⁻¹)ᵀ per component, [K, D, D]; diag: 1/σ per component, [K, D]

    public GmmModel(CovarianceType type, double[] weights, double[] means, double[] covariances, int k, int d)
    {
        int covLen = type == CovarianceType.Full ? k * d * d : k * d;
        if (weights.Length != k || means.Length != k * d || covariances.Length != covLen)
            throw new ArgumentException($"GMM parameters do not match K = {k}, D = {d}, {type}");
        Type = type; Weights = weights; Means = means; Covariances = covariances; K = k; D = d;
        _logDetPrec = new double[k];
        _precChol = new float[covLen];
        for (int c = 0; c < k; c++)
        {
            if (type == CovarianceType.Full)
            {
                var linv = Cholesky.InverseFactor(covariances.AsSpan(c * d * d, d * d), d, c);
                double logdet = 0;
                for (int i = 0; i < d; i++)
                {
                    logdet += Math.Log(linv[i * d + i]);
                    // Store (L⁻¹)ᵀ row-major so y = (x − μ) · P is one GEMM.
                    for (int j = 0; j < d; j++) _precChol[c * d * d + j * d + i] = (float)linv[i * d + j];
                }
                _logDetPrec[c] = logdet;
            }
            else
            {
                double logdet = 0;
                for (int j = 0; j < d; j++)
                {
                    double v = covariances[c * d + j];
                    if (!(v > 0)) throw new InvalidOperationException($"GMM component {c} has variance {v} in dimension {j}; increase reg-covar");
                    _precChol[c * d + j] = (float)(1 / Math.Sqrt(v));
                    logdet -= 0.5 * Math.Log(v);
                }
                _logDetPrec[c] = logdet;
            }
        }
    }

    public CovarianceType Type { get; }
    public double[] Weights { get; }
    public double[] Means { get; }
    public double[] Covariances { get; }
    public int K { get; }
    public int D { get; }

    public (int[] Ids, float[] Confidence) Predict(Tensor features)
    {
        if (features.Shape.Length != 2 || features.Shape[1] != D)
            throw new ArgumentException($"features: expected (N, {D}), got ({string.Join(", ", features.ShapeArray())})");
        int n = features.Shape[0];
        var logResp = new double[(long)n * K];
        EStep(features.Data, n, logResp);
        var ids = new int[n];
        var conf = new float[n];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int c = 1; c < K; c++) if (logResp[i * K + c] > logResp[i * K + best]) best = c;
            ids[i] = best;
            conf[i] = (float)Math.Exp(logResp[i * K + best]);
        }
        return (ids, conf);
    }

    /// <summary>
    /// Fills logResp [n, K] with ln p(c | x) and returns the mean log-likelihood (1/n) Σ ln Σ_c π_c N(x | μ_c, Σ_c).
    /// </summary>
    internal double EStep(float[] x, int n, double[] logResp)
    {
        int k = K, d = D;
        double constant = -0.5 * d * Math.Log(2 * Math.PI);
        // Weighted log-densities per component into logResp[:, c].
        if (Type == CovarianceType.Full)
        {
            int block = Math.Min(n, Distances.BlockRows);
            var diff = new float[block * d];
            var y = new float[block * d];
            var mu = new float[d];
            for (int c = 0; c < k; c++)
            {
                for (int j = 0; j < d; j++) mu[j] = (float)Means[c * d + j];
                double add = constant + _logDetPrec[c] + Math.Log(Weights[c]);
                for (int start = 0; start < n; start += block)
                {
                    int rows = Math.Min(block, n - start), s0 = start, cc = c;
                    // Centre first, then project: (x − μ)·P in float32 keeps digits that x·P − μ·P would cancel.
                    Parallelism.For(rows, (s, len) =>
                    {
                        for (int r = s; r < s + len; r++)
                            System.Numerics.Tensors.TensorPrimitives.Subtract(x.AsSpan((s0 + r) * d, d), mu, diff.AsSpan(r * d, d));
                    }, minChunk: 1024);
                    Gemm.Sgemm(false, false, rows, d, d, 1f, diff.AsSpan(0, rows * d), d, _precChol.AsSpan(c * d * d, d * d), d, 0f, y, d);
                    Parallelism.For(rows, (s, len) =>
                    {
                        for (int r = s; r < s + len; r++)
                        {
                            double sq = 0;
                            var yr = y.AsSpan(r * d, d);
                            for (int j = 0; j < d; j++) sq += (double)yr[j] * yr[j];
                            logResp[(long)(s0 + r) * k + cc] = add - 0.5 * sq;
                        }
                    }, minChunk: 1024);
                }
            }
        }
        else
        {
            // Σ_j (x_j − μ_j)² p_j = Σ x'² p − 2 Σ x' μ' p + Σ μ'² p with x' = x − s, μ' = μ − s (s = mixture mean, so the
            // expansion does not cancel digits): one GEMM [rows, 2D] × [2D, K] per block, like sklearn's diag path.
            var shift = new float[d];
            for (int c = 0; c < k; c++)
                for (int j = 0; j < d; j++) shift[j] += (float)(Weights[c] * Means[c * d + j]);
            var b = new float[2 * d * k];
            var add = new double[k];
            for (int c = 0; c < k; c++)
            {
                double cst = 0;
                for (int j = 0; j < d; j++)
                {
                    double p = (double)_precChol[c * d + j] * _precChol[c * d + j];
                    double mu = Means[c * d + j] - shift[j];
                    b[j * k + c] = (float)p;
                    b[(d + j) * k + c] = (float)(-2 * mu * p);
                    cst += mu * mu * p;
                }
                add[c] = constant + _logDetPrec[c] + Math.Log(Weights[c]) - 0.5 * cst;
            }
            int block = Math.Min(n, Distances.BlockRows);
            var a = new float[block * 2 * d];
            var g = new float[block * k];
            for (int start = 0; start < n; start += block)
            {
                int rows = Math.Min(block, n - start), s0 = start;
                Parallelism.For(rows, (s, len) =>
                {
                    for (int r = s; r < s + len; r++)
                    {
                        var dst = a.AsSpan(r * 2 * d, 2 * d);
                        System.Numerics.Tensors.TensorPrimitives.Subtract(x.AsSpan((s0 + r) * d, d), shift, dst[d..]);
                        System.Numerics.Tensors.TensorPrimitives.Multiply(dst[d..], dst[d..], dst[..d]);
                    }
                }, minChunk: 1024);
                Gemm.Sgemm(false, false, rows, k, 2 * d, 1f, a.AsSpan(0, rows * 2 * d), 2 * d, b, k, 0f, g, k);
                Parallelism.For(rows, (s, len) =>
                {
                    for (int r = s; r < s + len; r++)
                        for (int c = 0; c < k; c++)
                            logResp[(long)(s0 + r) * k + c] = add[c] - 0.5 * g[r * k + c];
                }, minChunk: 1024);
            }
        }

        // Log-sum-exp normalisation per row.
        int workers = Math.Max(1, Math.Min(EnginePolicy.Current.Threads, n / 2048));
        var partial = new double[workers];
        int chunk = (n + workers - 1) / workers;
        Parallel.For(0, workers, EnginePolicy.Current.ParallelOptions, w =>
        {
            double total = 0;
            int end = Math.Min(n, (w + 1) * chunk);
            for (int i = w * chunk; i < end; i++)
            {
                var row = logResp.AsSpan(i * k, k);
                double max = double.NegativeInfinity;
                foreach (double v in row) if (v > max) max = v;
                double sum = 0;
                foreach (double v in row) sum += Math.Exp(v - max);
                double lse = max + Math.Log(sum);
                for (int c = 0; c < k; c++) row[c] -= lse;
                total += lse;
            }
            partial[w] = total;
        });
        return partial.Sum() / n;
    }

    public void Save(string path, bool overwrite = false)
    {
        if (!overwrite && File.Exists(path)) throw new OutputExistsException(path);
        var meta = new Dictionary<string, string>
        {
            [ClusterModels.KindKey] = ClusterModels.GmmKind,
            ["k"] = K.ToString(CultureInfo.InvariantCulture),
            ["covariance"] = Type == CovarianceType.Full ? "full" : "diag",
        };
        int[] covShape = Type == CovarianceType.Full ? [K, D, D] : [K, D];
        static float[] F(double[] v) => v.Select(x => (float)x).ToArray();
        // float32 on disk like every other cedm tensor; predictions after a reload agree to float32 round-off.
        Safetensors.Write(path, [("weights", [K], F(Weights)), ("means", [K, D], F(Means)), ("covariances", covShape, F(Covariances))], meta);
    }

    internal static GmmModel Load(SafetensorsFile file)
    {
        var type = ClusterModels.Meta(file, "covariance") switch
        {
            "full" => CovarianceType.Full,
            "diag" => CovarianceType.Diag,
            var s => throw new InvalidDataException($"cluster model: unknown covariance type \"{s}\""),
        };
        var w = ClusterModels.Tensor(file, "weights", 1);
        var m = ClusterModels.Tensor(file, "means", 2);
        var cov = ClusterModels.Tensor(file, "covariances", type == CovarianceType.Full ? 3 : 2);
        static double[] D(float[] v) => v.Select(x => (double)x).ToArray();
        return new GmmModel(type, D(w.Data), D(m.Data), D(cov.Data), m.Shape[0], m.Shape[1]);
    }
}
