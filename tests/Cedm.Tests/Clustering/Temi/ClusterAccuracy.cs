namespace Cedm.Tests.Clustering.Temi;

/// <summary>
/// Clustering accuracy for tests (a metrics module lives elsewhere): the best one-to-one map of predicted to true
/// clusters by brute force over permutations (true K ≤ 8), predicted clusters beyond the true count mapped to their
/// majority class, as TEMI's ACC does for over-clustering (spec §6.4).
/// </summary>
internal static class ClusterAccuracy
{
    public static double Compute(int[] predicted, int[] truth)
    {
        int kp = predicted.Max() + 1, kt = truth.Max() + 1;
        if (kt > 8) throw new ArgumentException("Brute-force ACC handles at most 8 true classes.");
        var m = new int[kp, kt];
        for (int i = 0; i < truth.Length; i++) m[predicted[i], truth[i]]++;
        // The kt predicted clusters with most points take part in the permutation; the others go to their majority.
        var order = Enumerable.Range(0, kp).OrderByDescending(p => Enumerable.Range(0, kt).Sum(t => m[p, t])).ToArray();
        var main = order.Take(kt).ToArray();
        int rest = order.Skip(kt).Sum(p => Enumerable.Range(0, kt).Max(t => m[p, t]));
        int best = 0;
        foreach (var perm in Permutations(Enumerable.Range(0, kt).ToArray(), 0))
        {
            int s = 0;
            for (int i = 0; i < main.Length; i++) s += m[main[i], perm[i]];
            best = Math.Max(best, s);
        }
        return (double)(best + rest) / truth.Length;
    }

    private static IEnumerable<int[]> Permutations(int[] a, int start)
    {
        if (start == a.Length) { yield return (int[])a.Clone(); yield break; }
        for (int i = start; i < a.Length; i++)
        {
            (a[start], a[i]) = (a[i], a[start]);
            foreach (var p in Permutations(a, start + 1)) yield return p;
            (a[start], a[i]) = (a[i], a[start]);
        }
    }
}
