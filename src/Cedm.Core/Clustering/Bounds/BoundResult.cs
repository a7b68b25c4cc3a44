namespace Cedm.Clustering.Bounds;

/// <summary>One TEMI run of the search: K, K_used, r = K_used/K, which phase ran it, β and its wall time.</summary>
public sealed record BoundRow(int K, int Utilized, double Ratio, string Phase, double Beta, double Seconds);

/// <summary>Why the doubling stopped (<see cref="BoundResult.Stop"/>; bound.json key "stop").</summary>
public static class BoundStop
{
    /// <summary>r(K) fell below τ: the bound binds (then the grid refines it).</summary>
    public const string Threshold = "threshold";

    /// <summary>K reached N / rows-per-cluster without r &lt; τ: K_UB is the data cap, a lower bound on the true K_UB.</summary>
    public const string DataCap = "data";

    /// <summary>The next run would not fit the time budget: K_UB is the best found so far.</summary>
    public const string TimeBudget = "time";

    /// <summary>K reached the explicit --max-k.</summary>
    public const string MaxK = "max-k";
}

/// <summary>
/// The outcome of <see cref="ClusterBoundSearch.Run"/>: K_UB, the threshold, every run in order, whether the
/// doubling hit <see cref="BoundOptions.MaxK"/>, and with --lower the β = 1 run and K_LB.
/// </summary>
public sealed record BoundResult(int KUpper, double Threshold, IReadOnlyList<BoundRow> Table, bool CappedAtMaxK, int? KLower, BoundRow? LowerRun, double KnnSeconds, double TotalSeconds)
{
    /// <summary>Why the doubling stopped (<see cref="BoundStop"/>); anything but "threshold" means K_UB is capped.</summary>
    public string Stop { get; init; } = BoundStop.Threshold;

    /// <summary>Some K had r &lt; τ (the curve crossed the threshold).</summary>
    public bool Crossed { get; init; }

    /// <summary>The grid between the last pass and the first failure was completed (false when the time budget cut it).</summary>
    public bool Refined { get; init; }

    /// <summary>The data cap: the largest K the search may try, N / rows-per-cluster.</summary>
    public int DataCapK { get; init; }

    /// <summary>Rows searched.</summary>
    public int Rows { get; init; }

    /// <summary>Rows of the data set the bound is for (the data cap's N): <see cref="Rows"/> unless a subsample was searched.</summary>
    public int DataRows { get; init; }

    /// <summary>The time budget in seconds (0 = none).</summary>
    public double TimeBudgetSeconds { get; init; }

    /// <summary>True when something other than r &lt; τ stopped the doubling.</summary>
    public bool Capped => Stop != BoundStop.Threshold;

    /// <summary>K_UB is divided by this to get the K to condition on (<see cref="ConditioningK(long, int, int)"/>).</summary>
    public const int BoundToBestK = 3;

    /// <summary>Training images a cluster should get on average in <see cref="ConditioningK(long, int, int)"/> (images seen / K).</summary>
    public const int ImagesSeenPerCluster = 2000;

    /// <summary>
    /// The K a conditional diffusion model should train on, given this bound, the images the training will show the
    /// model (<paramref name="trainImages"/> = kimg × 1000) and the rows of the training set:
    /// <code>K = max(1, min(round(K_UB / 3), ⌊trainImages / 2000⌋, ⌊rows / MinRowsPerCluster⌋))</code>
    /// Why each term:
    /// <list type="bullet">
    /// <item>K_UB / 3: the bound is an upper bound, and the paper's best K lay well below it. With the released TEMI
    /// tables (spec §5.2) and τ = 0.95, K_UB = 500 / ≥ 600 / 700 on CIFAR-10 / CIFAR-100 / FFHQ, against best K = 100 /
    /// 200 / 400 (third-party summaries, spec §8.5): ratios 0.20 / ≤ 0.33 / 0.57, geometric mean ≈ 1/3.</item>
    /// <item>trainImages / 2000: a budget guard. Each cluster's embedding and the samples of that cluster are learnt
    /// from the images of that cluster the model sees; the paper trained 100–200 Mimg (≈ 10⁶ images per cluster at
    /// K = 100), a 20-minute CPU run ~90 kimg. Our Fashion-MNIST study at 8 kimg per model found the smallest K tried
    /// (10, i.e. 800 images per cluster) best, so at small budgets fewer, better-fed clusters win; 2 000 images per
    /// cluster is our assumption (≈ 45 clusters at 90 kimg), to be calibrated by the study, not a measured optimum.</item>
    /// <item>rows / MinRowsPerCluster: the data cap of the search (at least ~50 training images per cluster).</item>
    /// </list>
    /// </summary>
    public int ConditioningK(long trainImages, int rows, int minRowsPerCluster = 50) => ConditioningK(KUpper, trainImages, rows, minRowsPerCluster);

    /// <summary>The same rule from a K_UB read back from bound.json (key k_ub).</summary>
    public static int ConditioningK(int kUpper, long trainImages, int rows, int minRowsPerCluster = 50)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kUpper, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(trainImages);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minRowsPerCluster, 1);
        long fromBound = (long)Math.Round(kUpper / (double)BoundToBestK, MidpointRounding.AwayFromZero);
        long fromBudget = trainImages / ImagesSeenPerCluster;
        long fromData = rows / minRowsPerCluster;
        return (int)Math.Max(1, Math.Min(fromBound, Math.Min(fromBudget, fromData)));
    }
}
