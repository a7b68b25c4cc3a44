namespace Cedm.Metrics.Clustering;

/// <summary>
/// The contingency table n_ij of two labelings of the same N items (spec §6.4): rows i are the distinct predicted
/// clusters, columns j the distinct true classes, both relabelled densely in ascending order of their original integer
/// values (labels are arbitrary integers, negative ones included, so only the partition matters).
/// Stored sparsely (only non-zero cells) because K_pred × K_true can be far larger than N (e.g. one cluster per image).
/// </summary>
public sealed class Contingency
{
    private Contingency(int n, long[] predValues, long[] trueValues, int[] rowSums, int[] colSums, Cell[] cells)
    {
        N = n; PredValues = predValues; TrueValues = trueValues; RowSums = rowSums; ColSums = colSums; Cells = cells;
    }

    /// <summary>One non-zero cell: predicted cluster <see cref="Row"/>, true class <see cref="Col"/>, count n_ij.</summary>
    public readonly record struct Cell(int Row, int Col, int Count);

    /// <summary>Number of labelled items.</summary>
    public int N { get; }

    /// <summary>Number of distinct predicted clusters (rows).</summary>
    public int KPred => PredValues.Length;

    /// <summary>Number of distinct true classes (columns).</summary>
    public int KTrue => TrueValues.Length;

    /// <summary>The original predicted label of each row, ascending.</summary>
    public long[] PredValues { get; }

    /// <summary>The original true label of each column, ascending.</summary>
    public long[] TrueValues { get; }

    /// <summary>a_i: items per predicted cluster, length K_pred (all positive).</summary>
    public int[] RowSums { get; }

    /// <summary>b_j: items per true class, length K_true (all positive).</summary>
    public int[] ColSums { get; }

    /// <summary>The non-zero cells, sorted by row then column.</summary>
    public Cell[] Cells { get; }

    public static Contingency FromLabels(ReadOnlySpan<int> pred, ReadOnlySpan<int> truth)
    {
        var p = new long[pred.Length];
        var t = new long[truth.Length];
        for (int i = 0; i < p.Length; i++) p[i] = pred[i];
        for (int i = 0; i < t.Length; i++) t[i] = truth[i];
        return FromLabels(p, t);
    }

    /// <summary>Builds the table; the two labelings must have the same, non-zero length. O(N log N).</summary>
    public static Contingency FromLabels(ReadOnlySpan<long> pred, ReadOnlySpan<long> truth)
    {
        if (pred.Length != truth.Length)
            throw new ArgumentException($"The labelings differ in length: {pred.Length} predicted vs {truth.Length} true labels.", nameof(truth));
        if (pred.Length == 0) throw new ArgumentException("The labelings are empty.", nameof(pred));
        var (predValues, rows) = Densify(pred);
        var (trueValues, cols) = Densify(truth);
        int n = pred.Length, kTrue = trueValues.Length;

        // Cell key row·K_true + col; sorting the keys groups equal cells (no K_pred × K_true dense buffer).
        var keys = new long[n];
        for (int s = 0; s < n; s++) keys[s] = (long)rows[s] * kTrue + cols[s];
        Array.Sort(keys);
        var cells = new List<Cell>();
        var rowSums = new int[predValues.Length];
        var colSums = new int[kTrue];
        for (int s = 0; s < n;)
        {
            int e = s + 1;
            while (e < n && keys[e] == keys[s]) e++;
            int r = (int)(keys[s] / kTrue), c = (int)(keys[s] % kTrue);
            cells.Add(new Cell(r, c, e - s));
            rowSums[r] += e - s;
            colSums[c] += e - s;
            s = e;
        }
        return new Contingency(n, predValues, trueValues, rowSums, colSums, cells.ToArray());
    }

    /// <summary>The dense table [K_pred, K_true], row-major (for the assignment behind ACC).</summary>
    public int[] ToDense()
    {
        var dense = new int[checked(KPred * KTrue)];
        foreach (var cell in Cells) dense[cell.Row * KTrue + cell.Col] = cell.Count;
        return dense;
    }

    /// <summary>Sorted distinct values and each item's index among them.</summary>
    private static (long[] Values, int[] Index) Densify(ReadOnlySpan<long> labels)
    {
        var sorted = labels.ToArray();
        Array.Sort(sorted);
        int distinct = 0;
        for (int i = 0; i < sorted.Length; i++)
            if (i == 0 || sorted[i] != sorted[i - 1]) sorted[distinct++] = sorted[i];
        var values = sorted[..distinct];
        var index = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++) index[i] = Array.BinarySearch(values, labels[i]);
        return (values, index);
    }
}
