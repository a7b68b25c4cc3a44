namespace Cedm.Metrics.Clustering;

/// <summary>
/// Entropies and mutual information of labelings in nats (natural log), computed term by term as scikit-learn's
/// `entropy` and `mutual_info_score` do (spec §6.4), so that the scores agree with it to rounding.
/// </summary>
public static class MutualInformation
{
    /// <summary>H = −Σ (c/N)·(ln c − ln N) over the given cluster sizes; 0 for a single cluster.</summary>
    public static double Entropy(ReadOnlySpan<int> sizes)
    {
        if (sizes.Length <= 1) return 0.0;
        double n = 0;
        foreach (int c in sizes) n += c;
        double logN = Math.Log(n), h = 0;
        foreach (int c in sizes)
            if (c > 0) h -= c / n * (Math.Log(c) - logN);
        return h;
    }

    /// <summary>H(U) of the predicted labeling.</summary>
    public static double EntropyPred(Contingency c) => Entropy(c.RowSums);

    /// <summary>H(V) of the true labeling.</summary>
    public static double EntropyTrue(Contingency c) => Entropy(c.ColSums);

    /// <summary>
    /// MI = Σ_ij (n_ij/N)·ln(N·n_ij/(a_i b_j)) over the non-zero cells. As in sklearn, terms below machine epsilon
    /// count as 0 and the sum is clipped at 0, so independent labelings give exactly 0 (which NMI relies on).
    /// </summary>
    public static double Compute(Contingency c)
    {
        if (c.KPred == 1 || c.KTrue == 1) return 0.0; // MI ≤ min(H(U), H(V)) = 0
        double n = c.N, logN = Math.Log(n), mi = 0;
        foreach (var cell in c.Cells)
        {
            double p = cell.Count / n;
            double outer = (double)c.RowSums[cell.Row] * c.ColSums[cell.Col];
            double term = p * (Math.Log(cell.Count) - logN) + p * (-Math.Log(outer) + logN + logN);
            if (Math.Abs(term) >= MachineEpsilon) mi += term;
        }
        return Math.Max(mi, 0.0);
    }

    /// <summary>numpy's finfo(float64).eps = 2^−52 (C#'s double.Epsilon is the smallest subnormal instead).</summary>
    internal const double MachineEpsilon = 2.220446049250313e-16;
}
