using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Metrics;

/// <summary>KID estimate: mean and standard deviation (ddof 0) of the unbiased MMD² over random subsets.</summary>
public sealed record KidResult(double Mean, double Std, int Subsets, int SubsetSize);

/// <summary>
/// Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimator of the squared maximum mean
/// discrepancy with the cubic polynomial kernel k(x, y) = (xᵀy / D + 1)³, averaged over random subsets drawn
/// without replacement (torch-fidelity defaults: 100 subsets of 1000 per side). Kernel sums are in float64.
/// </summary>
public static class Kid
{
    public const int DefaultSubsets = 100;
    public const int DefaultSubsetSize = 1000;

    /// <summary>
    /// Unbiased MMD² of all rows of x [m, D] against all rows of y [n, D]:
    /// Σ_{i≠j} k(xi,xj)/(m(m−1)) + Σ_{i≠j} k(yi,yj)/(n(n−1)) − 2 Σ_{i,j} k(xi,yj)/(mn). Needs m, n ≥ 2.
    /// </summary>
    public static double UnbiasedMmd2(ReadOnlySpan<float> x, int m, ReadOnlySpan<float> y, int n, int dimension)
    {
        if (m < 2 || n < 2) throw new ArgumentException($"KID needs at least 2 vectors per side; got {m} and {n}.");
        if (x.Length != (long)m * dimension || y.Length != (long)n * dimension)
            throw new ArgumentException($"Feature shapes do not match D = {dimension}: {x.Length} and {y.Length} values.");
        var xd = ToDouble(x);
        var yd = ToDouble(y);
        double kxx = KernelSum(xd, m, xd, m, dimension, excludeDiagonal: true);
        double kyy = KernelSum(yd, n, yd, n, dimension, excludeDiagonal: true);
        double kxy = KernelSum(xd, m, yd, n, dimension, excludeDiagonal: false);
        return kxx / ((double)m * (m - 1)) + kyy / ((double)n * (n - 1)) - 2 * kxy / ((double)m * n);
    }

    /// <summary>KID over <paramref name="subsets"/> random subsets of min(subsetSize, Nx, Ny) rows from each side.</summary>
    public static KidResult Compute(ReadOnlySpan<float> x, int rowsX, ReadOnlySpan<float> y, int rowsY, int dimension,
        Rng rng, int subsets = DefaultSubsets, int subsetSize = DefaultSubsetSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(subsets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(subsetSize, 2);
        int size = Math.Min(subsetSize, Math.Min(rowsX, rowsY));
        if (size < 2) throw new ArgumentException($"KID needs at least 2 vectors per side; got {rowsX} and {rowsY}.");
        var values = new double[subsets];
        var bx = new float[size * dimension];
        var by = new float[size * dimension];
        for (int s = 0; s < subsets; s++)
        {
            Subsets.GatherRows(x, dimension, Subsets.Choose(rowsX, size, rng), bx);
            Subsets.GatherRows(y, dimension, Subsets.Choose(rowsY, size, rng), by);
            values[s] = UnbiasedMmd2(bx, size, by, size, dimension);
        }
        double mean = values.Average();
        double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / subsets);
        return new KidResult(mean, std, subsets, size);
    }

    /// <summary>Σ over (i, j) of (aᵢ·bⱼ/D + 1)³, leaving out i = j when asked (a and b are then the same set).</summary>
    private static double KernelSum(double[] a, int rowsA, double[] b, int rowsB, int d, bool excludeDiagonal)
    {
        var dot = new double[(long)rowsA * rowsB];
        GemmDouble.Dgemm(false, true, rowsA, rowsB, d, 1.0 / d, a, d, b, d, 0.0, dot, rowsB);
        double total = 0;
        for (int i = 0; i < rowsA; i++)
        {
            double rowSum = 0;
            for (int j = 0; j < rowsB; j++)
            {
                if (excludeDiagonal && i == j) continue;
                double k = dot[(long)i * rowsB + j] + 1;
                rowSum += k * k * k;
            }
            total += rowSum;
        }
        return total;
    }

    private static double[] ToDouble(ReadOnlySpan<float> v)
    {
        var r = new double[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = v[i];
        return r;
    }
}
