namespace Cedm.Metrics.Clustering;

/// <summary>
/// The clustering scores `cedm score` reports (spec §6.4, cli.md keys nmi, ami, ari, acc, k_pred, k_true): a predicted
/// labeling against the true one, both arbitrary integers (only the partitions matter).
/// </summary>
public sealed record ClusteringScores(double Nmi, double Ami, double Ari, double Acc, int KPred, int KTrue, int N)
{
    /// <summary>All scores from one contingency table. Throws ArgumentException for unequal lengths or N = 0.</summary>
    public static ClusteringScores Compute(long[] pred, long[] truth) => Compute(Contingency.FromLabels(pred, truth));

    public static ClusteringScores Compute(int[] pred, int[] truth) => Compute(Contingency.FromLabels(pred, truth));

    public static ClusteringScores Compute(Contingency c) => new(
        Clustering.Nmi.Compute(c), Clustering.Ami.Compute(c), Clustering.Ari.Compute(c), ClusterAccuracy.Compute(c),
        c.KPred, c.KTrue, c.N);
}
