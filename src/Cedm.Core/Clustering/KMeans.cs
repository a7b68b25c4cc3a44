using System.Text.Json.Nodes;
using Cedm.Tensors;

namespace Cedm.Clustering;

/// <summary>One k-means fit: centroids [K, D], hard labels, inertia Σ‖x − c_label‖² (float64), iterations.</summary>
public sealed record KMeansResult(float[] Centers, int K, int D, int[] Labels, double Inertia, int Iterations, bool Converged, int Run);

/// <summary>
/// k-means (spec §4.6 baseline): greedy k-means++ seeding, Lloyd iterations, each one fused pass
/// over the rows (<see cref="LloydPass"/>: GEMM distances ‖x‖² − 2x·c + ‖c‖² per chunk, argmin, float64 sums), empty clusters re-seeded with the points farthest from
/// their centres, <see cref="KMeansOptions.NInit"/> restarts keeping the lowest inertia. Hard method: the assignment
/// carries a distance-softmax confidence but no probabilities (see <see cref="KMeansOptions"/>).
/// </summary>
public sealed class KMeans(KMeansOptions options) : IClusterer
{
    public KMeansOptions Options { get; } = options;

    public string Method => "kmeans";

    /// <summary>The last fit's result and model (set by <see cref="Fit"/>).</summary>
    public KMeansResult? Result { get; private set; }

    public KMeansModel? Model { get; private set; }

    public ClusterAssignment Fit(Tensor features, Rng rng, IProgress<double>? progress = null)
    {
        var (n, d) = FeatureMatrix.Check(features, Options.K);
        Options.Validate();
        float[] x = Options.Cosine ? FeatureMatrix.L2NormalizedRows(features.Data, n, d) : features.Data;
        var result = Run(x, n, d, Options, rng, progress);
        double temperature = Options.Temperature ?? KMeansModel.DefaultTemperature(result.Inertia, n);
        var model = new KMeansModel(result.Centers, Options.K, d, temperature, Options.Cosine);
        var (ids, confidence) = model.PredictNormalized(x, n);
        Result = result; Model = model;
        var json = new JsonObject
        {
            ["k"] = Options.K, ["n_init"] = Options.NInit, ["max_iter"] = Options.MaxIter, ["tol"] = Options.Tol,
            ["cosine"] = Options.Cosine, ["temperature"] = temperature,
            ["temperature_rule"] = Options.Temperature is null ? "inertia / N" : "given",
            ["inertia"] = result.Inertia, ["iterations"] = result.Iterations, ["converged"] = result.Converged,
            ["best_run"] = result.Run,
        };
        // The model's labels equal Lloyd's final labels (same distances); use Lloyd's to be exact on ties.
        return new ClusterAssignment(Method, Options.K, result.Labels, confidence, null, json);
    }

    /// <summary>Runs NInit seeded Lloyd fits on x [n, d] (already normalised when cosine) and keeps the lowest inertia.</summary>
    internal static KMeansResult Run(float[] x, int n, int d, KMeansOptions o, Rng rng, IProgress<double>? progress = null)
    {
        var xNorms = Distances.RowSquaredNorms(x, n, d);
        double tol = o.Tol * MeanVariance(x, n, d);
        KMeansResult? best = null;
        for (int run = 0; run < o.NInit; run++)
        {
            var centers = KMeansPlusPlus.Seed(x, xNorms, n, d, o.K, rng);
            int r = run;
            var res = Lloyd(x, xNorms, n, d, o.K, centers, o.MaxIter, tol, run,
                progress is null ? null : f => progress.Report((r + f) / o.NInit));
            if (best is null || res.Inertia < best.Inertia) best = res;
        }
        progress?.Report(1.0);
        return best!;
    }

    /// <summary>Lloyd from given centres (tests: empty-cluster repair); tol is absolute here.</summary>
    internal static KMeansResult RunFrom(float[] x, int n, int d, float[] centers, int k, int maxIter, double tol) =>
        Lloyd(x, Distances.RowSquaredNorms(x, n, d), n, d, k, (float[])centers.Clone(), maxIter, tol, 0, null);

    /// <summary>sklearn's tolerance scale: mean over features of the per-feature variance.</summary>
    internal static double MeanVariance(float[] x, int n, int d)
    {
        var mean = new double[d];
        var sq = new double[d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) { double v = x[i * d + j]; mean[j] += v; sq[j] += v * v; }
        double total = 0;
        for (int j = 0; j < d; j++) { double m = mean[j] / n; total += Math.Max(0, sq[j] / n - m * m); }
        return total / d;
    }

    private static KMeansResult Lloyd(float[] x, float[] xNorms, int n, int d, int k, float[] centers, int maxIter, double tol,
        int run, Action<double>? progress)
    {
        var labels = new int[n];
        Array.Fill(labels, -1);
        var minDist = new float[n];
        var newCenters = new float[k * d];
        var sums = new double[k * d];
        var counts = new long[k];
        bool strict = false, converged = false;
        int iter = 0;
        for (; iter < maxIter; iter++)
        {
            // Assignment to the old centres and the sums for the new ones in one pass; `changed` counts labels that
            // differ from the previous iteration's (sklearn's strict-convergence test).
            long changed = LloydPass.Run(x, xNorms, n, d, centers, k, labels, minDist, sums, counts);
            bool repaired = RepairEmptyClusters(x, n, d, k, labels, minDist, sums, counts);
            for (int c = 0; c < k; c++)
            {
                double inv = counts[c] > 0 ? 1.0 / counts[c] : 0;
                for (int j = 0; j < d; j++) newCenters[c * d + j] = (float)(sums[c * d + j] * inv);
            }
            double shift = 0;
            for (int i = 0; i < k * d; i++) { double diff = newCenters[i] - centers[i]; shift += diff * diff; }
            (centers, newCenters) = (newCenters, centers);
            progress?.Invoke((double)(iter + 1) / maxIter);
            if (changed == 0 && !repaired) { strict = converged = true; iter++; break; }
            if (shift <= tol) { converged = true; iter++; break; }
        }
        // The labels must belong to the final centres (sklearn re-runs the assignment unless labels were stable).
        if (!strict) LloydPass.Run(x, xNorms, n, d, centers, k, labels, minDist, null, null);
        return new KMeansResult(centers, k, d, labels, ExactInertia(x, n, d, centers, labels), iter, converged, run);
    }

    /// <summary>
    /// Empty clusters take the points farthest from their current centre (largest minDist), each removed from its old
    /// cluster's sum first, as sklearn relocates them; a cluster is never emptied to fill another. True when any moved.
    /// </summary>
    private static bool RepairEmptyClusters(float[] x, int n, int d, int k, int[] labels, float[] minDist, double[] sum, long[] count)
    {
        var empty = Enumerable.Range(0, k).Where(c => count[c] == 0).ToArray();
        if (empty.Length == 0) return false;
        bool moved = false;
        var far = Enumerable.Range(0, n).OrderByDescending(i => minDist[i]).ThenBy(i => i).Take(empty.Length).ToArray();
        for (int e = 0; e < empty.Length && e < far.Length; e++)
        {
            int p = far[e], old = labels[p], target = empty[e];
            if (count[old] <= 1) continue; // never empty another cluster
            count[old]--;
            count[target] = 1;
            for (int j = 0; j < d; j++) { sum[old * d + j] -= x[p * d + j]; sum[target * d + j] = x[p * d + j]; }
            labels[p] = target;
            moved = true;
        }
        return moved;
    }

    /// <summary>Σ_i ‖x_i − c_{l_i}‖² computed directly in float64 (the GEMM expansion loses digits near the optimum).</summary>
    internal static double ExactInertia(float[] x, int n, int d, float[] centers, int[] labels)
    {
        int workers = Math.Max(1, Math.Min(EnginePolicy.Current.Threads, n / 4096));
        var part = new double[workers];
        int chunk = (n + workers - 1) / workers;
        Parallel.For(0, workers, EnginePolicy.Current.ParallelOptions, w =>
        {
            double s = 0;
            int end = Math.Min(n, (w + 1) * chunk);
            for (int i = w * chunk; i < end; i++)
            {
                var row = x.AsSpan(i * d, d);
                var c = centers.AsSpan(labels[i] * d, d);
                for (int j = 0; j < d; j++) { double v = row[j] - c[j]; s += v * v; }
            }
            part[w] = s;
        });
        return part.Sum();
    }
}
