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

    /// <summary>Copies rows <paramref name="indices"/> of a row-major [N, d] matrix into <paramref name="dst"/> [indices.Length, d].</summary>
    public static void GatherRows(ReadOnlySpan<float> rows, int d, int[] indices, Span<float> dst)
    {
        for (int k = 0; k < indices.Length; k++)
            rows.Slice(indices[k] * d, d).CopyTo(dst.Slice(k * d, d));
    }
}
