using Cedm.Tensors;

namespace Cedm.Metrics;

/// <summary>Random subsets for the subsampled metrics (KID subsets, PRDC's 10 000-per-side cap), from a passed-in RNG.</summary>
public static class Subsets
{
    /// <summary><paramref name="k"/> distinct indices from [0, n), in random order (partial Fisher–Yates).</summary>
    public static int[] Choose(int n, int k, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, n);
        var perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = 0; i < k; i++)
        {
            int j = i + rng.NextInt(n - i);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        return perm[..k];
    }

    /// <summary>All of [0, n) when n ≤ max, else <see cref="Choose"/>(n, max) sorted (keeps the original order).</summary>
    public static int[] AtMost(int n, int max, Rng rng)
    {
        if (n <= max) return Enumerable.Range(0, n).ToArray();
        var idx = Choose(n, max, rng);
        Array.Sort(idx);
        return idx;
    }
}
