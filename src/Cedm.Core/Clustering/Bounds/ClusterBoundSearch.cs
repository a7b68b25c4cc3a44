using Cedm.Clustering.Temi;
using Cedm.Tensors;

namespace Cedm.Clustering.Bounds;

/// <summary>
/// The upper cluster bound by TEMI's utilisation ratio (spec §5.2): train TEMI (β = 0.6) at K0, 2K0, 4K0, … until
/// r(K) = K_used/K drops below τ (if K0 already fails, halve until a K passes), then try a grid strictly between the
/// last passing and the first failing K; K_UB = the largest K tried with r ≥ τ that is not above the first failure.
/// Optionally the β = 1 run at an over-estimated K whose K_used is the lower bound (spec §5.2 step 3).
/// The kNN graph is computed once and shared by every run; run K uses the seed (Seed, K) so a K is reproducible
/// whatever path reached it.
/// </summary>
public sealed class ClusterBoundSearch(BoundOptions options)
{
    public BoundOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Called after each TEMI run (the CLI prints the table as it grows).</summary>
    public Action<BoundRow>? RowFinished { get; init; }

    /// <summary>Called with (K, fraction done) during each TEMI run.</summary>
    public Action<int, double>? RunProgress { get; init; }

    /// <summary>
    /// Test seam: K_used for (K, β) in place of training TEMI, so the search logic can be checked against a known
    /// r(K) curve in milliseconds. Null = TEMI.
    /// </summary>
    internal Func<int, double, int>? UtilizedAt { get; init; }

    public BoundResult Run(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        Options.Validate();
        if (features.Rank != 2 || features.Dim(0) < 2)
            throw new ArgumentException($"Features must be [N ≥ 2, D], got {Shapes.Format(features.Shape)}.");
        var total = System.Diagnostics.Stopwatch.StartNew();
        int n = features.Dim(0);
        var neighbours = UtilizedAt != null ? new int[0, 0] : Knn.CosineTopK(features, Math.Min(Options.Temi.Neighbours, n - 1));
        double knnSeconds = total.Elapsed.TotalSeconds;
        double tau = Options.Threshold;
        var table = new List<BoundRow>();
        var byK = new Dictionary<int, BoundRow>();

        BoundRow Eval(int k, string phase)
        {
            if (byK.TryGetValue(k, out var done)) return done;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int used = k == 1 ? 1 : Fit(features, neighbours, k, Options.Beta, phase).Utilized; // K = 1 is trivially fully used
            var row = new BoundRow(k, used, (double)used / k, phase, Options.Beta, clock.Elapsed.TotalSeconds);
            byK[k] = row;
            table.Add(row);
            RowFinished?.Invoke(row);
            return row;
        }

        int pass, fail = -1;
        bool capped = false;
        if (Eval(Options.K0, "double").Ratio >= tau)
        {
            pass = Options.K0;
            while (true)
            {
                int next = Math.Max(pass + 1, (int)Math.Ceiling(pass * Options.Growth));
                if (next > Options.MaxK) { capped = true; break; }
                if (Eval(next, "double").Ratio >= tau) pass = next;
                else { fail = next; break; }
            }
        }
        else
        {
            fail = Options.K0;
            while (true)
            {
                int next = Math.Min(fail - 1, (int)Math.Floor(fail / Options.Growth));
                if (Eval(Math.Max(next, 1), "halve").Ratio >= tau) { pass = Math.Max(next, 1); break; }
                fail = next;
            }
        }

        int kUpper = pass;
        if (fail > 0)
        {
            foreach (int k in GridBetween(pass, fail, Options.GridPoints))
                if (Eval(k, "grid").Ratio >= tau) kUpper = Math.Max(kUpper, k);
        }

        int? kLower = null;
        BoundRow? lowerRun = null;
        if (Options.Lower)
        {
            int k = Options.LowerK > 0 ? Options.LowerK : Math.Max(2, 2 * kUpper);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int used = Fit(features, neighbours, k, 1.0, "lower").Utilized;
            lowerRun = new BoundRow(k, used, (double)used / k, "lower", 1.0, clock.Elapsed.TotalSeconds);
            RowFinished?.Invoke(lowerRun);
            kLower = used;
        }
        return new BoundResult(kUpper, tau, table, capped, kLower, lowerRun, knnSeconds, total.Elapsed.TotalSeconds);
    }

    private ClusterAssignment Fit(Tensor features, int[,] neighbours, int k, double beta, string phase)
    {
        if (UtilizedAt != null)
        {
            int used = UtilizedAt(k, beta);
            return new ClusterAssignment("fake", k, Enumerable.Range(0, features.Dim(0)).Select(i => i % used).ToArray(), new float[features.Dim(0)]);
        }
        var temi = new TemiClusterer(k, Options.Temi with { Beta = beta }) { Neighbours = neighbours };
        var progress = RunProgress == null ? null : new SyncProgress(f => RunProgress(k, f));
        return temi.Fit(features, new Rng(RunSeed(Options.Seed, k, phase == "lower")), progress);
    }

    /// <summary>Up to <paramref name="points"/> distinct integers evenly spaced strictly inside (pass, fail).</summary>
    public static int[] GridBetween(int pass, int fail, int points)
    {
        var ks = new SortedSet<int>();
        for (int i = 1; i <= points; i++)
        {
            int k = (int)Math.Round(pass + (fail - pass) * (double)i / (points + 1));
            if (k > pass && k < fail) ks.Add(k);
        }
        return ks.ToArray();
    }

    private static ulong RunSeed(int seed, int k, bool lower) =>
        unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)k * 0xBF58476D1CE4E5B9UL ^ (lower ? 0x94D049BB133111EBUL : 0UL));

    /// <summary>An IProgress that reports synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
