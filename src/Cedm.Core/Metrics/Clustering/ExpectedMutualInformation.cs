using MathNet.Numerics;

namespace Cedm.Metrics.Clustering;

/// <summary>
/// E[MI] of two labelings under the permutation (hypergeometric) model with fixed marginals, spec §6.4
/// (Vinh, Epps &amp; Bailey 2010):
/// E[MI] = Σ_i Σ_j Σ_{n=max(1, a_i+b_j−N)}^{min(a_i, b_j)} (n/N)·ln(N·n/(a_i b_j))·P(n | a_i, b_j, N), with the
/// hypergeometric P = a_i! b_j! (N−a_i)! (N−b_j)! / (N! n! (a_i−n)! (b_j−n)! (N−a_i−b_j+n)!) evaluated as
/// exp of a sum of log-factorials (log-gamma) to avoid overflow.
/// </summary>
/// <remarks>
/// A cell's contribution depends only on (a_i, b_j, N), so the double sum runs over the distinct row sums × the
/// distinct column sums, weighted by their multiplicities (sklearn loops over all K_pred × K_true cells; same sum).
/// Per (a, b) pair, P is evaluated with log-gamma once, at the mode of the hypergeometric distribution, and the
/// other n in the valid range follow from the ratio P(n+1)/P(n) = (a−n)(b−n)/((n+1)(N−a−b+n+1)), walking down and
/// up from the mode; a walk stops once P falls below 1e−30·P(mode), because P is monotone away from the mode (the
/// distribution is log-concave) and so the at most N terms left add less than 1e−25 relative. Cost: O(D_a·D_b·L)
/// where D are the numbers of distinct cluster sizes (≤ K) and L ≤ min(a, b) is the walked length (≈ a few standard
/// deviations of the hypergeometric); for N = 60 000, K = 100 × 10 that is ≤ 6·10⁵ cheap steps, about a millisecond.
/// </remarks>
public static class ExpectedMutualInformation
{
    /// <summary>Relative size of P below which a walk away from the mode stops (see remarks).</summary>
    private const double TailCutoff = 1e-30;

    public static double Compute(Contingency c)
    {
        if (c.KPred == 1 || c.KTrue == 1) return 0.0; // a zero-entropy labeling has MI = 0 in every permutation
        int n = c.N;
        var rows = Multiplicities(c.RowSums);
        var cols = Multiplicities(c.ColSums);
        double emi = 0;
        foreach (var (a, countA) in rows)
            foreach (var (b, countB) in cols)
                emi += (double)countA * countB * CellExpectation(a, b, n);
        return emi;
    }

    /// <summary>Σ_n (n/N)·ln(N·n/(a b))·P(n | a, b, N) over max(1, a+b−N) ≤ n ≤ min(a, b).</summary>
    internal static double CellExpectation(int a, int b, int n)
    {
        int start = Math.Max(1, a + b - n), end = Math.Min(a, b);
        if (start > end) return 0.0;
        double bigN = n, logScale = Math.Log(bigN) - Math.Log(a) - Math.Log(b); // ln(N/(a b))
        // Mode of the hypergeometric, clamped into the summed range (n = 0 is excluded: its term is 0).
        int mode = Math.Clamp((int)((a + 1.0) * (b + 1.0) / (n + 2.0)), start, end);
        double pMode = Math.Exp(LogFactorial(a) + LogFactorial(b) + LogFactorial(n - a) + LogFactorial(n - b)
            - LogFactorial(n) - LogFactorial(mode) - LogFactorial(a - mode) - LogFactorial(b - mode) - LogFactorial(n - a - b + mode));
        double Term(int k, double p) => k / bigN * (logScale + Math.Log(k)) * p;

        double sum = Term(mode, pMode), floor = pMode * TailCutoff;
        double pk = pMode;
        for (int k = mode; k < end; k++) // upwards: P(k+1) = P(k)·(a−k)(b−k)/((k+1)(N−a−b+k+1))
        {
            pk *= (double)(a - k) * (b - k) / ((k + 1.0) * (n - a - b + k + 1.0));
            if (pk < floor) break;
            sum += Term(k + 1, pk);
        }
        pk = pMode;
        for (int k = mode; k > start; k--) // downwards: P(k−1) = P(k)·k(N−a−b+k)/((a−k+1)(b−k+1))
        {
            pk *= k * (double)(n - a - b + k) / ((a - k + 1.0) * (b - k + 1.0));
            if (pk < floor) break;
            sum += Term(k - 1, pk);
        }
        return sum;
    }

    private static double LogFactorial(int k) => k < 2 ? 0.0 : SpecialFunctions.GammaLn(k + 1.0);
    /// <summary>The distinct values of <paramref name="sizes"/> with how often each occurs.</summary>
    private static List<(int Value, int Count)> Multiplicities(int[] sizes)
    {
        var sorted = (int[])sizes.Clone();
        Array.Sort(sorted);
        var result = new List<(int, int)>();
        for (int i = 0; i < sorted.Length;)
        {
            int e = i + 1;
            while (e < sorted.Length && sorted[e] == sorted[i]) e++;
            result.Add((sorted[i], e - i));
            i = e;
        }
        return result;
    }
}
