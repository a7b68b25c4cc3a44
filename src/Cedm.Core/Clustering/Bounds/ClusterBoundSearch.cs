using Cedm.Clustering.Temi;
using Cedm.Distributed;
using Cedm.Tensors;

namespace Cedm.Clustering.Bounds;

/// <summary>
/// The upper cluster bound by TEMI's utilisation ratio (spec §5.2): train TEMI (β = 0.6) at K0, 2K0, 4K0, … until
/// r(K) = K_used/K drops below τ (if K0 already fails, halve until a K passes), then try a grid strictly between the
/// last passing and the first failing K; K_UB = the largest K tried with r ≥ τ that is not above the first failure.
/// Only two things stop the doubling short of r &lt; τ, both reported in the result (<see cref="BoundResult.Stop"/>):
/// the data cap (K ≤ N / <see cref="BoundOptions.MinRowsPerCluster"/>; the cap itself is tried when the doubling
/// would jump over it) and the time budget (<see cref="BoundOptions.TimeBudgetSeconds"/>); an explicit
/// <see cref="BoundOptions.MaxK"/> is a third, off by default.
/// Optionally the β = 1 run at an over-estimated K whose K_used is the lower bound (spec §5.2 step 3).
/// The kNN graph is computed once and shared by every run; run K uses the seed (Seed, K) so a K is reproducible
/// whatever path reached it.
/// In a job of R ranks (<see cref="Communicator"/>, docs/distributed.md) the search goes in rounds of R runs, one per
/// rank: the next R doublings (or halvings, or grid points) at once, each rank training one of them. A doubling round
/// may try Ks above the first failure; they are recorded in the table but, as in one process, K_UB comes only from
/// the Ks up to the first failure, so R ranks find the K_UB one process finds, in fewer rounds.
/// </summary>
public sealed class ClusterBoundSearch(BoundOptions options)
{
    public BoundOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>The job whose ranks share the TEMI runs; null = this process alone.</summary>
    public ICommunicator? Communicator { get; init; }

    /// <summary>Called after each TEMI run (the CLI prints the table as it grows).</summary>
    public Action<BoundRow>? RowFinished { get; init; }

    /// <summary>Called with (K, fraction done) during each TEMI run.</summary>
    public Action<int, double>? RunProgress { get; init; }

    /// <summary>
    /// Test seam: K_used for (K, β) in place of training TEMI, so the search logic can be checked against a known
    /// r(K) curve in milliseconds. Null = TEMI.
    /// </summary>
    internal Func<int, double, int>? UtilizedAt { get; init; }

    /// <summary>Test seam: the seconds a run at K reports (with <see cref="ElapsedOverride"/>, a fake clock for the time budget).</summary>
    internal Func<int, double>? SecondsOf { get; init; }

    /// <summary>Test seam: the search's elapsed seconds. Null = the wall clock.</summary>
    internal Func<double>? ElapsedOverride { get; init; }

    /// <summary>Test seam: Ks tried per round. Null = the communicator's rank count (1 in one process).</summary>
    internal int? RoundWidth { get; init; }

    public BoundResult Run(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        Options.Validate();
        if (features.Rank != 2 || features.Dim(0) < 2)
            throw new ArgumentException($"Features must be [N ≥ 2, D], got {Shapes.Format(features.Shape)}.");
        var total = System.Diagnostics.Stopwatch.StartNew();
        int n = features.Dim(0);
        // One whitening and one kNN graph for every TEMI run of the search.
        var whitening = UtilizedAt == null && Options.Temi.Whiten > 0 ? TemiWhitening.Fit(features, Options.Temi.Whiten) : null;
        var input = whitening?.Apply(features) ?? features;
        var neighbours = UtilizedAt != null ? new int[0, 0] : Knn.CosineTopK(input, Math.Min(Options.Temi.Neighbours, n - 1));
        double knnSeconds = total.Elapsed.TotalSeconds;
        double tau = Options.Threshold;
        int dataCap = Math.Max(1, (Options.DataRows > 0 ? Options.DataRows : n) / Options.MinRowsPerCluster);
        int cap = Math.Min(Options.MaxK, Math.Min(dataCap, n));   // never more clusters than rows searched
        string capReason = dataCap <= Options.MaxK ? BoundStop.DataCap : BoundStop.MaxK;
        double budget = Options.TimeBudgetSeconds, slowest = 0;
        var table = new List<BoundRow>();
        var byK = new Dictionary<int, BoundRow>();
        var comm = Communicator ?? SingleProcess.Instance;
        int width = RoundWidth ?? comm.Size;

        // One round: the Ks not tried yet, run side by side on the ranks; rows of every K asked, in the order asked.
        List<BoundRow> Round(IReadOnlyList<int> ks, string phase)
        {
            var fresh = ks.Where(k => !byK.ContainsKey(k)).Distinct().ToList();
            var runs = RunSpread(input, neighbours, fresh, Options.Beta, phase, comm);
            foreach (var row in runs)
            {
                slowest = Math.Max(slowest, row.Seconds);
                byK[row.K] = row;
                table.Add(row);
                RowFinished?.Invoke(row);
            }
            return ks.Select(k => byK[k]).ToList();
        }
        // Another round fits the budget if the time spent plus the slowest run so far stays within it.
        bool TimeLeft() => budget <= 0 || Elapsed(total) + slowest <= budget;
        // The next doubling, or the cap itself when the doubling would jump over it.
        int Up(int k) => Math.Min(cap, Math.Max(k + 1, (int)Math.Ceiling(k * Options.Growth)));
        int Down(int k) => Math.Max(1, Math.Min(k - 1, (int)Math.Floor(k / Options.Growth)));

        int pass = 0, fail = -1;
        string stop = BoundStop.Threshold;
        int k0 = Math.Min(Options.K0, cap);
        if (Round([k0], "double")[0].Ratio >= tau)
        {
            pass = k0;
            while (fail < 0)
            {
                if (pass >= cap) { stop = capReason; break; }
                if (!TimeLeft()) { stop = BoundStop.TimeBudget; break; }
                var next = new List<int> { Up(pass) };
                while (next.Count < width && next[^1] < cap) next.Add(Up(next[^1]));
                foreach (var row in Round(next, "double"))
                {
                    if (row.Ratio >= tau) pass = row.K;
                    else { fail = row.K; break; }
                }
            }
        }
        else
        {
            fail = k0;
            while (fail > 1 && pass == 0)
            {
                if (!TimeLeft()) { stop = BoundStop.TimeBudget; break; }
                var next = new List<int> { Down(fail) };
                while (next.Count < width && next[^1] > 1) next.Add(Down(next[^1]));
                foreach (var row in Round(next, "halve"))
                {
                    if (row.Ratio >= tau) { pass = row.K; break; }
                    fail = row.K;
                }
            }
            pass = Math.Max(pass, 1);
        }

        int kUpper = pass;
        bool refined = fail < 0 || stop != BoundStop.Threshold;
        if (fail > 0 && stop == BoundStop.Threshold)
        {
            refined = true;
            foreach (var chunk in GridBetween(pass, fail, Options.GridPoints).Chunk(width))
            {
                if (!TimeLeft()) { stop = BoundStop.TimeBudget; refined = false; break; }
                foreach (var row in Round(chunk, "grid"))
                    if (row.Ratio >= tau) kUpper = Math.Max(kUpper, row.K);
            }
        }

        int? kLower = null;
        BoundRow? lowerRun = null;
        if (Options.Lower)
        {
            int k = Options.LowerK > 0 ? Options.LowerK : Math.Max(2, 2 * kUpper);
            lowerRun = RunSpread(input, neighbours, [k], 1.0, "lower", comm)[0];
            RowFinished?.Invoke(lowerRun);
            kLower = lowerRun.Utilized;
        }
        return new BoundResult(kUpper, tau, table, stop == BoundStop.MaxK, kLower, lowerRun, knnSeconds, Elapsed(total))
        {
            Stop = stop, Crossed = fail > 0, Refined = refined, DataCapK = dataCap, Rows = n,
            DataRows = Options.DataRows > 0 ? Options.DataRows : n, TimeBudgetSeconds = budget,
        };
    }

    /// <summary>
    /// Runs TEMI at each of <paramref name="ks"/>, the i-th on rank i mod R, and shares every run's K_used and seconds
    /// with every rank (one all-reduce), so all ranks take the same next step.
    /// </summary>
    private List<BoundRow> RunSpread(Tensor input, int[,] neighbours, List<int> ks, double beta, string phase, ICommunicator comm)
    {
        var shared = new double[2 * ks.Count];
        for (int i = comm.Rank; i < ks.Count; i += comm.Size)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            shared[2 * i] = ks[i] == 1 ? 1 : Fit(input, neighbours, ks[i], beta, phase).Utilized; // K = 1 is trivially fully used
            shared[2 * i + 1] = SecondsOf?.Invoke(ks[i]) ?? clock.Elapsed.TotalSeconds;
        }
        if (comm.Size > 1 && ks.Count > 0) comm.AllReduceSum(shared);
        return ks.Select((k, i) => new BoundRow(k, (int)shared[2 * i], shared[2 * i] / k, phase, beta, shared[2 * i + 1])).ToList();
    }

    private double Elapsed(System.Diagnostics.Stopwatch clock) => ElapsedOverride?.Invoke() ?? clock.Elapsed.TotalSeconds;

    private ClusterAssignment Fit(Tensor features, int[,] neighbours, int k, double beta, string phase)
    {
        if (UtilizedAt != null)
        {
            int used = UtilizedAt(k, beta);
            return new ClusterAssignment("fake", k, Enumerable.Range(0, features.Dim(0)).Select(i => i % used).ToArray(), new float[features.Dim(0)]);
        }
        // The features arrive whitened (Run), so the runs do not whiten again.
        var temi = new TemiClusterer(k, Options.Temi with { Beta = beta, Whiten = 0 }) { Neighbours = neighbours };
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
