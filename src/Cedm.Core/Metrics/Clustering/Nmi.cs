namespace Cedm.Metrics.Clustering;

/// <summary>
/// Normalised mutual information with the arithmetic mean of the entropies, NMI = MI / (½(H(U)+H(V)))
/// (spec §6.4; sklearn `normalized_mutual_info_score`, default average_method).
/// </summary>
public static class Nmi
{
    public static double Compute(Contingency c)
    {
        // Both labelings a single cluster: zero entropy on both sides, a perfect match (sklearn returns 1).
        if (c.KPred == 1 && c.KTrue == 1) return 1.0;
        double mi = MutualInformation.Compute(c);
        if (mi == 0) return 0.0; // not a perfect match (handled above), so 0 whatever the normaliser
        return mi / (0.5 * (MutualInformation.EntropyTrue(c) + MutualInformation.EntropyPred(c)));
    }
}
