namespace Cedm.Metrics.Clustering;

/// <summary>
/// Adjusted Rand index (Hubert &amp; Arabie), spec §6.4: ARI = (I − E)/(½(A+B) − E) with I = Σ C(n_ij,2),
/// A = Σ C(a_i,2), B = Σ C(b_j,2), E = A·B/C(N,2). Evaluated, as sklearn does, from the pair confusion counts
/// in exact integer arithmetic (Int128: the products reach ~N⁴) and 1.0 when no pair disagrees.
/// </summary>
public static class Ari
{
    public static double Compute(Contingency c)
    {
        // Ordered-pair counts: tp = pairs together in both, fp/fn = together in one only, tn = apart in both.
        Int128 n = c.N, sumSquares = 0, rowSquares = 0, colSquares = 0;
        foreach (var cell in c.Cells) sumSquares += (Int128)cell.Count * cell.Count;
        foreach (int a in c.RowSums) rowSquares += (Int128)a * a;
        foreach (int b in c.ColSums) colSquares += (Int128)b * b;
        Int128 tp = sumSquares - n;
        Int128 fp = rowSquares - sumSquares; // together in pred, apart in truth
        Int128 fn = colSquares - sumSquares; // together in truth, apart in pred
        Int128 tn = n * n - fp - fn - sumSquares;
        if (fp == 0 && fn == 0) return 1.0; // identical partitions, incl. N = 1 and both single-cluster
        Int128 numerator = 2 * (tp * tn - fn * fp);
        Int128 denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
        return (double)numerator / (double)denominator;
    }
}
