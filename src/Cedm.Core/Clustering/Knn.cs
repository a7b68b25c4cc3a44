using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Clustering;

/// <summary>
/// Nearest neighbours by cosine similarity (spec §4.1): rows are L2-normalised, similarity = dot product, the
/// row itself is excluded, and the k most similar rows are kept in descending order of similarity (ties: lower index
/// first). Computed in row blocks — one GEMM of [block, D]·[N, D]ᵀ per block, then a size-k heap per row, parallel
/// over rows — so memory is O(block·N + N·k), never O(N²).
/// </summary>
public static class Knn
{
    /// <summary>Similarity-matrix budget per block (floats): 16 Mi floats = 64 MB, so block = 16Mi / N rows (≤ 1024).</summary>
    private const long BlockBudget = 16L << 20;

    /// <summary>Indices [N, k] of each row's k nearest other rows by cosine similarity.</summary>
    public static int[,] CosineTopK(Tensor features, int k) => CosineTopK(features, k, blockRows: 0);

    /// <param name="blockRows">Rows per GEMM block; 0 picks min(1024, 16Mi / N). Tests pass small blocks to cross block edges.</param>
    internal static int[,] CosineTopK(Tensor features, int k, int blockRows)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Rank != 2) throw new ArgumentException($"Features must be [N, D], got {Shapes.Format(features.Shape)}.");
        int n = features.Dim(0), d = features.Dim(1);
        if (k < 1 || k > n - 1) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be within [1, N − 1] = [1, {n - 1}].");
        var x = Normalized(features.Data, n, d);
        int block = blockRows > 0 ? blockRows : (int)Math.Clamp(BlockBudget / n, 16, 1024);
        var sims = new float[(long)Math.Min(block, n) * n];
        var result = new int[n, k];
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start);
            Gemm.Sgemm(false, true, rows, n, d, 1f, x.AsSpan(start * d, rows * d), d, x, d, 0f, sims.AsSpan(0, rows * n), n);
            Parallel.For(0, rows, EnginePolicy.Current.ParallelOptions, () => (new float[k], new int[k]), (r, _, heap) =>
            {
                SelectTopK(sims.AsSpan(r * n, n), start + r, heap.Item1, heap.Item2, k);
                for (int j = 0; j < k; j++) result[start + r, j] = heap.Item2[j];
                return heap;
            }, _ => { });
        }
        return result;
    }

    /// <summary>Rows divided by their L2 norm (zero rows stay zero: their similarity to everything is 0).</summary>
    private static float[] Normalized(float[] data, int n, int d)
    {
        var x = new float[data.Length];
        Parallel.For(0, n, EnginePolicy.Current.ParallelOptions, i =>
        {
            var row = data.AsSpan(i * d, d);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, norm > 0 ? 1f / norm : 0f, x.AsSpan(i * d, d));
        });
        return x;
    }

    /// <summary>
    /// The k best entries of <paramref name="sim"/> (excluding <paramref name="self"/>) into idx, sorted best first.
    /// A min-heap of size k keyed on (similarity, −index): a candidate enters only when it beats the heap's worst.
    /// </summary>
    private static void SelectTopK(ReadOnlySpan<float> sim, int self, float[] vals, int[] idx, int k)
    {
        int size = 0;
        for (int j = 0; j < sim.Length; j++)
        {
            if (j == self) continue;
            float v = sim[j];
            if (float.IsNaN(v)) v = float.NegativeInfinity;
            if (size < k)
            {
                vals[size] = v; idx[size] = j; size++;
                SiftUp(vals, idx, size - 1);
            }
            else if (Better(v, j, vals[0], idx[0]))
            {
                vals[0] = v; idx[0] = j;
                SiftDown(vals, idx, size);
            }
        }
        // Heap-sort in place: repeatedly move the worst to the end, leaving best first.
        for (int end = size - 1; end > 0; end--)
        {
            (vals[0], vals[end]) = (vals[end], vals[0]);
            (idx[0], idx[end]) = (idx[end], idx[0]);
            SiftDown(vals, idx, end);
        }
    }

    /// <summary>a beats b: higher similarity, or equal similarity and lower index (deterministic ties).</summary>
    private static bool Better(float va, int ia, float vb, int ib) => va > vb || (va == vb && ia < ib);

    private static void SiftUp(float[] v, int[] ix, int i)
    {
        while (i > 0)
        {
            int p = (i - 1) / 2;
            if (!Better(v[p], ix[p], v[i], ix[i])) break;
            (v[p], v[i]) = (v[i], v[p]); (ix[p], ix[i]) = (ix[i], ix[p]);
            i = p;
        }
    }

    private static void SiftDown(float[] v, int[] ix, int size)
    {
        int i = 0;
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < size && Better(v[worst], ix[worst], v[l], ix[l])) worst = l;
            if (r < size && Better(v[worst], ix[worst], v[r], ix[r])) worst = r;
            if (worst == i) return;
            (v[worst], v[i]) = (v[i], v[worst]); (ix[worst], ix[i]) = (ix[i], ix[worst]);
            i = worst;
        }
    }
}
