namespace Cedm.Metrics.Clustering;

/// <summary>
/// Adjusted mutual information, the C-EDM paper's "ANMI" (spec §6.4; sklearn `adjusted_mutual_info_score`,
/// arithmetic mean): AMI = (MI − E[MI]) / (½(H(U)+H(V)) − E[MI]), natural log, E[MI] from
/// <see cref="ExpectedMutualInformation"/>.
/// </summary>
/// <remarks>
/// Special cases, checked against sklearn 1.2.1 by experiment:
/// both labelings a single cluster (incl. N = 1) → 1.0, as sklearn;
/// exactly one labeling a single cluster → MI = E[MI] = 0 and AMI = 0, as sklearn;
/// both labelings all singletons (N ≥ 2): MI = E[MI] = H(U) = H(V) = ln N, the formula is 0/0 and sklearn returns
/// rounding noise (0.0 for N = 2 and 4, 1.0 for N = 3 and 5..29). The two labelings are then the same partition, so
/// we return 1.0 — a deliberate, documented difference for N = 2 and 4.
/// Otherwise the denominator is kept away from 0 with sklearn's sign-preserving ±eps clamp.
/// </remarks>
public static class Ami
{
    public static double Compute(Contingency c)
    {
        if (c.KPred == 1 && c.KTrue == 1) return 1.0;
        if (c.KPred == c.N && c.KTrue == c.N) return 1.0;
        double mi = MutualInformation.Compute(c);
        double emi = ExpectedMutualInformation.Compute(c);
        double normalizer = 0.5 * (MutualInformation.EntropyTrue(c) + MutualInformation.EntropyPred(c));
        double denominator = normalizer - emi;
        // E[MI] ≤ the mean entropy in exact arithmetic; rounding can flip the sign, so clamp preserving it.
        denominator = denominator < 0
            ? Math.Min(denominator, -MutualInformation.MachineEpsilon)
            : Math.Max(denominator, MutualInformation.MachineEpsilon);
        return (mi - emi) / denominator;
    }
}
