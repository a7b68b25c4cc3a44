using Cedm.Tensors.Kernels;

namespace Cedm.Clustering;

/// <summary>
/// Exact Ward linkage by the nearest-neighbour chain algorithm (Müllner 2011): O(L²) time, one condensed float64 distance
/// matrix of L(L−1)/2 entries. Works on squared Ward distances d²(A, B) = 2 n_A n_B / (n_A + n_B) ‖c_A − c_B‖² with the
/// Lance–Williams update d²(k, A∪B) = ((n_A + n_k) d²(k, A) + (n_B + n_k) d²(k, B) − n_k d²(A, B)) / (n_A + n_B + n_k).
/// Heights are d (not d²), which for singleton leaves equals scipy's ward heights. Leaves may carry weights (sizes of
/// micro-clusters): the same formula is then the exact Ward cost between the weighted centroids.
/// </summary>
internal static class WardLinkage
{
    public static TreeMerge[] Build(float[] centers, int leaves, int d, double[] weights, int[]? counts = null)
    {
        int n = leaves;
        if (n == 1) return [];
        long size = (long)n * (n - 1) / 2;
        var dist = new double[size];
        long Idx(int i, int j) => i < j ? (long)n * i - (long)i * (i + 1) / 2 + j - i - 1 : (long)n * j - (long)j * (j + 1) / 2 + i - j - 1;

        // Initial squared distances from one GEMM per row block.
        var norms = Distances.RowSquaredNorms(centers, n, d);
        int block = Math.Min(n, 512);
        var dots = new float[block * n];
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start), s0 = start;
            Gemm.Sgemm(false, true, rows, n, d, -2f, centers.AsSpan(start * d, rows * d), d, centers, d, 0f, dots.AsSpan(0, rows * n), n);
            Parallelism.For(rows, (s, len) =>
            {
                for (int r = s; r < s + len; r++)
                {
                    int i = s0 + r;
                    for (int j = i + 1; j < n; j++)
                    {
                        double sq = Math.Max(0.0, (double)dots[r * n + j] + norms[i] + norms[j]);
                        dist[Idx(i, j)] = 2 * weights[i] * weights[j] / (weights[i] + weights[j]) * sq;
                    }
                }
            }, minChunk: 16);
        }

        var w = (double[])weights.Clone();
        var pointCount = counts is null ? Enumerable.Repeat(1, n).ToArray() : (int[])counts.Clone();
        var active = new bool[n];
        Array.Fill(active, true);
        var raw = new (int A, int B, double H2, int Size)[n - 1];
        var chain = new int[n];
        int chainLen = 0;
        int firstActive = 0;
        for (int step = 0; step < n - 1; step++)
        {
            if (chainLen == 0)
            {
                while (!active[firstActive]) firstActive++;
                chain[chainLen++] = firstActive;
            }
            int x, y;
            while (true)
            {
                x = chain[chainLen - 1];
                int prev = chainLen >= 2 ? chain[chainLen - 2] : -1;
                // Nearest active neighbour of x; the previous chain element wins ties (guarantees termination).
                int best = prev;
                double bestD = prev >= 0 ? dist[Idx(x, prev)] : double.PositiveInfinity;
                for (int i = 0; i < n; i++)
                {
                    if (!active[i] || i == x) continue;
                    double v = dist[Idx(x, i)];
                    if (v < bestD) { bestD = v; best = i; }
                }
                if (best == prev) { y = prev; break; }
                chain[chainLen++] = best;
            }
            chainLen -= 2;
            double dxy = dist[Idx(x, y)];
            // Merge x into y's slot.
            double wx = w[x], wy = w[y];
            for (int i = 0; i < n; i++)
            {
                if (!active[i] || i == x || i == y) continue;
                double wi = w[i];
                long iy = Idx(i, y);
                dist[iy] = ((wx + wi) * dist[Idx(i, x)] + (wy + wi) * dist[iy] - wi * dxy) / (wx + wy + wi);
            }
            active[x] = false;
            w[y] = wx + wy;
            pointCount[y] += pointCount[x];
            raw[step] = (Math.Min(x, y), Math.Max(x, y), dxy, pointCount[y]);
        }

        // Sort by height (stable: ties keep their valid discovery order), then name nodes as scipy does.
        var order = Enumerable.Range(0, n - 1).OrderBy(i => raw[i].H2).ThenBy(i => i).ToArray();
        var parent = new int[n];
        var nodeOf = new int[n];
        for (int i = 0; i < n; i++) { parent[i] = i; nodeOf[i] = i; }
        int Find(int v) { while (parent[v] != v) v = parent[v] = parent[parent[v]]; return v; }
        var merges = new TreeMerge[n - 1];
        for (int m = 0; m < n - 1; m++)
        {
            var (a, b, h2, sz) = raw[order[m]];
            int ra = Find(a), rb = Find(b);
            int na = nodeOf[ra], nb = nodeOf[rb];
            merges[m] = new TreeMerge(Math.Min(na, nb), Math.Max(na, nb), Math.Sqrt(Math.Max(0, h2)), sz);
            parent[ra] = rb;
            nodeOf[rb] = n + m;
        }
        return merges;
    }
}
