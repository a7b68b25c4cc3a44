using Cedm.Tensors;

namespace Cedm.Tests.Clustering;

/// <summary>Generated Gaussian blobs with known clusters, and clustering accuracy under the best label permutation.</summary>
internal static class ClusterTestData
{
    /// <summary>k isotropic Gaussians (σ = 1) in d dimensions with centres drawn N(0, spread²), n points in random order.</summary>
    public static (Tensor X, int[] Labels) Blobs(int n = 2000, int k = 5, int d = 8, float spread = 10f, ulong seed = 1)
    {
        var rng = new Rng(seed);
        var centers = new float[k * d];
        rng.FillNormal(centers, 0f, spread);
        var x = new float[n * d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % k;
            labels[i] = c;
            for (int j = 0; j < d; j++) x[i * d + j] = centers[c * d + j] + (float)rng.NextNormal();
        }
        var perm = rng.Permutation(n);
        var xs = new float[n * d];
        var ls = new int[n];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(x, perm[i] * d, xs, i * d, d);
            ls[i] = labels[perm[i]];
        }
        return (new Tensor(xs, n, d), ls);
    }

    /// <summary>ACC = max over bijections of predicted to true clusters of the matched fraction (brute force, K ≤ 8).</summary>
    public static double Accuracy(int[] predicted, int[] truth)
    {
        int kp = predicted.Max() + 1, kt = truth.Max() + 1, k = Math.Max(kp, kt);
        if (k > 8) throw new ArgumentException("brute-force ACC helper supports K ≤ 8");
        var counts = new int[k, k];
        for (int i = 0; i < predicted.Length; i++) counts[predicted[i], truth[i]]++;
        int best = 0;
        foreach (var perm in Permutations(Enumerable.Range(0, k).ToArray(), 0))
        {
            int s = 0;
            for (int p = 0; p < k; p++) s += counts[p, perm[p]];
            best = Math.Max(best, s);
        }
        return (double)best / predicted.Length;
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
