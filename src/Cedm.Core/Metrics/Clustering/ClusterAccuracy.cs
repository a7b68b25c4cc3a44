namespace Cedm.Metrics.Clustering;

/// <summary>
/// Clustering accuracy as TEMI's `compute_metrics` reports it (spec §6.4): count matrix M[pred, true], a
/// one-to-one assignment of predicted clusters to classes maximising Σ M (Hungarian), and — when there are more
/// distinct predicted clusters than classes (over-clustering) — every cluster left without a real class is re-mapped
/// to its majority class (the argmax of its row). ACC = Σ_rows M[row, class(row)] / N.
/// </summary>
/// <remarks>
/// We solve the rectangular K_pred × K_true problem on the present clusters and classes (densely relabelled ids):
/// O(min(K)²·max(K)) instead of TEMI's O((max label + 1)³) on a zero-padded square. Without ties the two agree.
/// With over-clustering the result can depend on which optimal assignment is found, because the clusters left
/// unmatched get their majority class: scipy leaves that to its algorithm's internals, and TEMI's zero padding
/// (rows for unused cluster ids) can additionally let a class whose best remaining count is 0 go unmatched. We break
/// ties deterministically towards the optimal assignment whose unmatched clusters have the largest majorities — the
/// largest of TEMI's possible answers on compact ids — by maximising (N+1)·M[r,c] − max_j M[r,j] (exact in double:
/// (N+1)·N &lt; 2⁵³), whose first term dominates. tools/fixtures/make_metric_fixtures.py reports the tie cases.
/// </remarks>
public static class ClusterAccuracy
{
    /// <summary>Largest min(K)²·max(K) we attempt (about a minute of work); beyond it ACC is refused.</summary>
    public const double MaxAssignmentWork = 2e10;

    public static double Compute(Contingency c) => Compute(c, out _);

    /// <summary>ACC and, per predicted cluster (row), the class (column) it was mapped to.</summary>
    public static double Compute(Contingency c, out int[] classOfCluster)
    {
        int kp = c.KPred, kt = c.KTrue;
        double work = (double)Math.Min(kp, kt) * Math.Min(kp, kt) * Math.Max(kp, kt);
        if (work > MaxAssignmentWork || (long)kp * kt > Array.MaxLength)
            throw new ArgumentException(
                $"ACC needs a {kp}×{kt} assignment (predicted clusters × classes), too large to solve; is one of the files an id per item rather than a label?");
        var counts = c.ToDense(); // M: [K_pred, K_true]
        var rowMax = new int[kp];
        var argMax = new int[kp];
        for (int r = 0; r < kp; r++)
            for (int j = 0; j < kt; j++)
                if (counts[r * kt + j] > rowMax[r]) { rowMax[r] = counts[r * kt + j]; argMax[r] = j; }

        bool overClustered = kp > kt;
        double scale = overClustered ? c.N + 1.0 : 1.0;
        var weights = new double[counts.Length];
        for (int r = 0; r < kp; r++)
            for (int j = 0; j < kt; j++)
                weights[r * kt + j] = scale * counts[r * kt + j] - (overClustered ? rowMax[r] : 0);
        classOfCluster = Hungarian.Maximize(weights, kp, kt);

        long correct = 0;
        for (int r = 0; r < kp; r++)
        {
            // Unmatched only when over-clustered: the majority re-map.
            if (classOfCluster[r] < 0) classOfCluster[r] = argMax[r];
            correct += counts[r * kt + classOfCluster[r]];
        }
        return (double)correct / c.N;
    }
}
