using Cedm.IO;
using Cedm.Tensors.Kernels;

namespace Cedm.Metrics;

/// <summary>
/// Streaming mean and covariance of feature vectors in float64 (spec §6.1: μ = Σf/N,
/// Σ = (Σ f fᵀ − N μμᵀ)/(N−1)). Rows are accumulated relative to a shift (the first row seen), which leaves both
/// formulas unchanged but avoids the cancellation of Σ f fᵀ − N μμᵀ when |μ| is large next to the spread.
/// The Gram update is a float64 GEMM per block of rows (OpenBLAS dgemm).
/// </summary>
public sealed class FeatureStatistics
{
    private const int BlockRows = 1024;
    private readonly double[] _shift;
    private readonly double[] _sum;     // Σ (f − shift)                [D]
    private readonly double[] _gram;    // Σ (f − shift)(f − shift)ᵀ     [D, D]
    private bool _hasShift;

    public FeatureStatistics(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Dimension = dimension;
        _shift = new double[dimension];
        _sum = new double[dimension];
        _gram = new double[(long)dimension * dimension];
    }

    public int Dimension { get; }

    public long Count { get; private set; }

    /// <summary>Adds <paramref name="rows"/> row-major feature vectors of length <see cref="Dimension"/>.</summary>
    public void Add(ReadOnlySpan<float> features, int rows) => AddCore(features, rows);

    /// <summary>Same for float64 rows (e.g. a float64 features.npy).</summary>
    public void Add(ReadOnlySpan<double> features, int rows) => AddCore(features, rows);

    private void AddCore<T>(ReadOnlySpan<T> features, int rows) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (features.Length != (long)rows * Dimension)
            throw new ArgumentException($"Expected {rows}x{Dimension} = {(long)rows * Dimension} values, got {features.Length}.", nameof(features));
        if (rows == 0) return;
        int d = Dimension;
        if (!_hasShift)
        {
            for (int j = 0; j < d; j++) _shift[j] = double.CreateTruncating(features[j]);
            _hasShift = true;
        }
        var block = new double[(long)Math.Min(rows, BlockRows) * d];
        for (int start = 0; start < rows; start += BlockRows)
        {
            int n = Math.Min(BlockRows, rows - start);
            var src = features.Slice(start * d, n * d);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < d; j++)
                {
                    double v = double.CreateTruncating(src[i * d + j]) - _shift[j];
                    block[i * d + j] = v;
                    _sum[j] += v;
                }
            // gram += blockᵀ · block  (d×n · n×d)
            GemmDouble.Dgemm(true, false, d, d, n, 1.0, block.AsSpan(0, n * d), d, block.AsSpan(0, n * d), d, 1.0, _gram, d);
        }
        Count += rows;
    }

    /// <summary>Statistics of a whole feature matrix [N, D].</summary>
    public static FeatureStatistics FromFeatures(ReadOnlySpan<float> features, int rows, int dimension)
    {
        var s = new FeatureStatistics(dimension);
        s.Add(features, rows);
        return s;
    }

    /// <summary>μ = Σ f / N, length D.</summary>
    public double[] Mean()
    {
        RequireRows(1);
        var mean = new double[Dimension];
        for (int j = 0; j < Dimension; j++) mean[j] = _shift[j] + _sum[j] / Count;
        return mean;
    }

    /// <summary>Unbiased covariance (N−1 denominator), row-major [D, D], exactly symmetric.</summary>
    public double[] Covariance()
    {
        RequireRows(2);
        int d = Dimension;
        var cov = new double[(long)d * d];
        double n = Count;
        for (int i = 0; i < d; i++)
            for (int j = i; j < d; j++)
            {
                // Σ (f−s)(f−s)ᵀ − N m mᵀ with m = Σ(f−s)/N, over N−1.
                double v = (_gram[(long)i * d + j] - _sum[i] * _sum[j] / n) / (n - 1);
                cov[(long)i * d + j] = v;
                cov[(long)j * d + i] = v;
            }
        return cov;
    }

    private void RequireRows(int min)
    {
        if (Count < min)
            throw new InvalidOperationException($"Feature statistics need at least {min} vectors; have {Count}.");
    }

    /// <summary>Writes μ and Σ as float64 .npy files (mu.npy [D], sigma.npy [D, D]) into <paramref name="dir"/>.</summary>
    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        Npy.Write(Path.Combine(dir, "mu.npy"), Mean(), Dimension);
        Npy.Write(Path.Combine(dir, "sigma.npy"), Covariance(), Dimension, Dimension);
    }

    /// <summary>Reads (μ, Σ) written by <see cref="Save"/>.</summary>
    public static (double[] Mean, double[] Covariance) Load(string dir)
    {
        var mu = Npy.Read(Path.Combine(dir, "mu.npy"));
        var sigma = Npy.Read(Path.Combine(dir, "sigma.npy"));
        int d = mu.Shape[0];
        if (mu.Shape.Length != 1 || sigma.Shape.Length != 2 || sigma.Shape[0] != d || sigma.Shape[1] != d)
            throw new InvalidDataException($"{dir}: mu.npy ({string.Join(",", mu.Shape)}) and sigma.npy ({string.Join(",", sigma.Shape)}) do not match");
        return (mu.ToFloat64(), sigma.ToFloat64());
    }
}
