using System.Diagnostics;
using Cedm.Benchmarks.Harness;
using Cedm.Clustering;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// Whole clustering fits on the real Fashion-MNIST train split (60,000 × 50 PCA features computed by sklearn in the peer
/// and saved to a temp .npy, so both sides cluster identical numbers): k-means K=10 and K=100 (k-means++, n_init 1,
/// seed 0; K=10 from the peer's k-means++ start; K=10 over seeds 0-4) and GMM K=10 diag and full (k-means init). Each row shows time next to the fit quality: inertia (k-means) or
/// mean log-likelihood (GMM), NMI against the labels, and the iteration count. Peer: bench/peers/clustering.py.
/// </summary>
public sealed class ClusteringSuite : IBenchSuite
{
    public string Name => "clustering";
    public string Description => "k-means K=10/100 (+ K=10 same start, K=10 seeds 0-4), GMM K=10 diag/full on 60k Fashion-MNIST PCA-50 features vs scikit-learn";
    public string? PeerScript => "clustering.py";

    public IReadOnlyList<BenchCase> Cases { get; } = Build();

    private static List<BenchCase> Build()
    {
        var list = new List<BenchCase>();
        foreach (int k in new[] { 10, 100 })
        {
            var state = new State();
            list.Add(new BenchCase($"kmeans-k{k}", $"kmeans-k{k}", null, () =>
            {
                var (x, labels) = Load();
                return () =>
                {
                    var km = new KMeans(new KMeansOptions { K = k });
                    var a = km.Fit(x, new Rng(0));
                    state.Set(new() { ["inertia"] = km.Result!.Inertia, ["nmi"] = Nmi(a.Ids, labels), ["iterations"] = km.Result.Iterations });
                };
            }) { Quality = state.Get });
        }
        {
            // Same start on both sides (the peer's k-means++ centres): identical iteration counts, so time = iterations.
            var state = new State();
            list.Add(new BenchCase("kmeans-k10-init", "kmeans-k10-init", null, () =>
            {
                var (x, labels) = Load();
                var init = Npy.Read(InitK10Path).ToFloat32();
                int n = x.Dim(0), d = x.Dim(1);
                double tol = new KMeansOptions().Tol * KMeans.MeanVariance(x.Data, n, d);
                return () =>
                {
                    var r = KMeans.RunFrom(x.Data, n, d, init, 10, new KMeansOptions().MaxIter, tol);
                    state.Set(new() { ["inertia"] = r.Inertia, ["nmi"] = Nmi(r.Labels, labels), ["iterations"] = r.Iterations });
                };
            }) { Quality = state.Get });
        }
        {
            // Seeds 0-4: one seed's iteration count is a lottery (20-130 at K=10 on either side), five average it out.
            var state = new State();
            list.Add(new BenchCase("kmeans-k10-5seeds", "kmeans-k10-5seeds", null, () =>
            {
                var (x, labels) = Load();
                return () =>
                {
                    double inertia = 0, nmi = 0;
                    int iterations = 0;
                    for (ulong seed = 0; seed < 5; seed++)
                    {
                        var km = new KMeans(new KMeansOptions { K = 10 });
                        var a = km.Fit(x, new Rng(seed));
                        inertia += km.Result!.Inertia / 5; nmi += Nmi(a.Ids, labels) / 5; iterations += km.Result.Iterations;
                    }
                    state.Set(new() { ["inertia"] = inertia, ["nmi"] = nmi, ["iterations"] = iterations });
                };
            }) { Quality = state.Get });
        }
        // One Lloyd pass (assignment + sums), the assignment alone, and the old path's distance GEMM alone, K = 10 from
        // the peer's start: where an iteration's time goes.
        foreach (bool withSums in new[] { true, false })
        {
            list.Add(new BenchCase(withSums ? "lloyd-pass-k10" : "lloyd-assign-k10", null, null, () =>
            {
                var (x, _) = Load();
                int n = x.Dim(0), d = x.Dim(1);
                var init = Npy.Read(InitK10Path).ToFloat32();
                var norms = Distances.RowSquaredNorms(x.Data, n, d);
                var labels = new int[n];
                var minDist = new float[n];
                var (sums, counts) = withSums ? (new double[10 * d], new long[10]) : (null, null);
                return () => LloydPass.Run(x.Data, norms, n, d, init, 10, labels, minDist, sums, counts);
            }));
        }
        list.Add(new BenchCase("lloyd-gemm-k10", null, 2.0 * 60000 * 50 * 10, () =>
        {
            var (x, _) = Load();
            int n = x.Dim(0), d = x.Dim(1);
            var init = Npy.Read(InitK10Path).ToFloat32();
            var dist = new float[Distances.BlockRows * 10];
            return () =>
            {
                for (int s = 0; s < n; s += Distances.BlockRows)
                {
                    int rows = Math.Min(Distances.BlockRows, n - s);
                    Cedm.Tensors.Kernels.Gemm.Sgemm(false, true, rows, 10, d, -2f, x.Data.AsSpan(s * d, rows * d), d, init, d, 0f, dist, 10);
                }
            };
        }));
        foreach (var cov in new[] { CovarianceType.Diag, CovarianceType.Full })
        {
            var state = new State();
            string name = $"gmm-k10-{(cov == CovarianceType.Full ? "full" : "diag")}";
            list.Add(new BenchCase(name, name, null, () =>
            {
                var (x, labels) = Load();
                return () =>
                {
                    var g = new GaussianMixture(new GaussianMixtureOptions { K = 10, Covariance = cov });
                    var a = g.Fit(x, new Rng(0));
                    state.Set(new() { ["loglik"] = g.Result!.MeanLogLikelihood, ["nmi"] = Nmi(a.Ids, labels), ["iterations"] = g.Result.Iterations });
                };
            }) { Quality = state.Get });
        }
        foreach (var cov in new[] { CovarianceType.Diag, CovarianceType.Full })
        {
            // Same start on both sides (EM from the peer's k-means labels): iteration counts agree, time compares EM alone.
            var state = new State();
            string name = $"gmm-k10-{(cov == CovarianceType.Full ? "full" : "diag")}-init";
            list.Add(new BenchCase(name, name, null, () =>
            {
                var (x, labels) = Load();
                var start = Npy.Read(LabelsK10Path).ToInt64().Select(v => (int)v).ToArray();
                int n = x.Dim(0), d = x.Dim(1);
                return () =>
                {
                    var g = new GaussianMixture(new GaussianMixtureOptions { K = 10, Covariance = cov });
                    var (r, logResp) = g.FitFrom(x.Data, n, d, start, null);
                    var ids = new int[n];
                    for (int i = 0; i < n; i++)
                        for (int c = 1; c < 10; c++) if (logResp[i * 10 + c] > logResp[i * 10 + ids[i]]) ids[i] = c;
                    state.Set(new() { ["loglik"] = r.MeanLogLikelihood, ["nmi"] = Nmi(ids, labels), ["iterations"] = r.Iterations });
                };
            }) { Quality = state.Get });
        }
        return list;
    }

    private sealed class State
    {
        private Dictionary<string, double>? _last;
        public void Set(Dictionary<string, double> q) => _last = q;
        public Dictionary<string, double> Get() => _last ?? [];
    }

    private static (Tensor X, int[] Labels)? s_cache;

    private static string Dir => Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") ?? "/tmp", "cedm-bench-clustering");

    /// <summary>The peer's k-means++ centres for K = 10 (sklearn, random_state 0), written by `clustering.py --prepare`.</summary>
    private static string InitK10Path => Path.Combine(Dir, "fmnist-train-pca50-init-k10.npy");

    /// <summary>The peer's k-means labels for K = 10 (sklearn KMeans, random_state 0): the GMM cases' common start.</summary>
    private static string LabelsK10Path => Path.Combine(Dir, "fmnist-train-pca50-kmeans-k10.npy");

    /// <summary>The peer's features (written by `clustering.py --prepare` when missing).</summary>
    private static (Tensor X, int[] Labels) Load()
    {
        if (s_cache is { } c) return c;
        string dir = Dir;
        string feats = Path.Combine(dir, "fmnist-train-pca50.npy"), labels = Path.Combine(dir, "fmnist-train-pca50-labels.npy");
        if (!File.Exists(feats) || !File.Exists(labels) || !File.Exists(InitK10Path) || !File.Exists(LabelsK10Path))
        {
            string script = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "peers", "clustering.py");
            var psi = new ProcessStartInfo(PeerRunner.Python) { UseShellExecute = false };
            psi.ArgumentList.Add(Path.GetFullPath(script));
            psi.ArgumentList.Add("--prepare");
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start python for the PCA features");
            p.WaitForExit();
            if (p.ExitCode != 0 || !File.Exists(feats)) throw new InvalidOperationException($"{script} --prepare failed ({p.ExitCode})");
        }
        var a = Npy.Read(feats);
        var x = new Tensor(a.ToFloat32(), a.Shape[0], a.Shape[1]);
        var y = Npy.Read(labels).ToInt64().Select(v => (int)v).ToArray();
        s_cache = (x, y);
        return s_cache.Value;
    }

    /// <summary>NMI with arithmetic-mean normalisation (sklearn's default): I(U;V) / ((H(U) + H(V)) / 2).</summary>
    internal static double Nmi(int[] a, int[] b)
    {
        int n = a.Length, ka = a.Max() + 1, kb = b.Max() + 1;
        var joint = new double[ka, kb];
        var pa = new double[ka];
        var pb = new double[kb];
        for (int i = 0; i < n; i++) { joint[a[i], b[i]]++; pa[a[i]]++; pb[b[i]]++; }
        double mi = 0, ha = 0, hb = 0;
        for (int i = 0; i < ka; i++)
            for (int j = 0; j < kb; j++)
                if (joint[i, j] > 0) mi += joint[i, j] / n * Math.Log(joint[i, j] * n / (pa[i] * pb[j]));
        foreach (double v in pa) if (v > 0) ha -= v / n * Math.Log(v / n);
        foreach (double v in pb) if (v > 0) hb -= v / n * Math.Log(v / n);
        return ha + hb == 0 ? 1 : mi / ((ha + hb) / 2);
    }
}
