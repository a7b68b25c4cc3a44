using Cedm.Tensors.Kernels;

namespace Cedm.Metrics;

/// <summary>
/// Squared Euclidean distances ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b between the rows of two float64 matrices, one block
/// of rows of <c>a</c> at a time (a [rowsA, D] × b [rowsB, D] never materialises), negatives from round-off clamped.
/// </summary>
public static class PairwiseDistances
{
    public const int BlockRows = 1024;

    /// <summary>Calls <paramref name="visit"/>(firstRow, rows, block) with block = squared distances [rows, rowsB].</summary>
    public static void SquaredBlocks(double[] a, int rowsA, double[] b, int rowsB, int d, Action<int, int, double[]> visit)
    {
        var normB = RowNorms(b, rowsB, d);
        var normA = RowNorms(a, rowsA, d);
        var block = new double[(long)Math.Min(BlockRows, Math.Max(rowsA, 1)) * rowsB];
        for (int start = 0; start < rowsA; start += BlockRows)
        {
            int n = Math.Min(BlockRows, rowsA - start);
            GemmDouble.Dgemm(false, true, n, rowsB, d, -2.0, a.AsSpan(start * d, n * d), d, b, d, 0.0, block, rowsB);
            Parallelism.ForEach(n, rowsB, i =>
            {
                var row = block.AsSpan((int)((long)i * rowsB), rowsB);
                double na = normA[start + i];
                for (int j = 0; j < rowsB; j++) row[j] = Math.Max(0, row[j] + na + normB[j]);
            });
            visit(start, n, block);
        }
    }

    public static double[] RowNorms(double[] x, int rows, int d)
    {
        var norms = new double[rows];
        for (int i = 0; i < rows; i++) norms[i] = System.Numerics.Tensors.TensorPrimitives.Dot(x.AsSpan(i * d, d), x.AsSpan(i * d, d));
        return norms;
    }

    /// <summary>
    /// Squared distance from each row to its k-th nearest neighbour in the same set, itself excluded (spec §6.3 r_k).
    /// </summary>
    public static double[] KthNeighbourSquared(double[] x, int rows, int d, int k)
    {
        if (k < 1 || k >= rows) throw new ArgumentException($"k = {k} nearest neighbours need more than k vectors; got {rows}.", nameof(k));
        var radii = new double[rows];
        SquaredBlocks(x, rows, x, rows, d, (start, n, block) =>
            Parallelism.ForEach(n, rows, i =>
            {
                // Keep the k smallest distances to the other rows, sorted ascending (k is small: insertion).
                Span<double> best = stackalloc double[k];
                best.Fill(double.PositiveInfinity);
                var row = block.AsSpan((int)((long)i * rows), rows);
                for (int j = 0; j < rows; j++)
                {
                    if (j == start + i || row[j] >= best[k - 1]) continue;
                    int p = k - 1;
                    while (p > 0 && best[p - 1] > row[j]) { best[p] = best[p - 1]; p--; }
                    best[p] = row[j];
                }
                radii[start + i] = best[k - 1];
            }));
        return radii;
    }
}
