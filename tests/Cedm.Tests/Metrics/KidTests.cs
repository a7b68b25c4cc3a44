using Cedm.Metrics;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Metrics;

/// <summary>KID: the unbiased MMD² with the cubic polynomial kernel, against numpy and in expectation.</summary>
public sealed class KidTests
{
    [Fact]
    public void MatchesNumpyFixture()
    {
        var fx = FixtureFile.Load("metrics/fd/kid.bin");
        Tensor x = fx["x"];
        int d = x.Shape[1];
        foreach (var name in new[] { "same", "shift" })
        {
            Tensor y = fx[$"y_{name}"];
            double expected = fx[$"mmd2_{name}"].Data[0];
            double ours = Kid.UnbiasedMmd2(x.Data, x.Shape[0], y.Data, y.Shape[0], d);
            // Kernel values are O(1): compare absolutely at 1e-6 (float32 storage of the expected value).
            ours.Should().BeApproximately(expected, 1e-6 * Math.Max(1, Math.Abs(expected)), name);
        }
    }

    /// <summary>
    /// Unbiasedness: over 300 independent pairs of samples from one distribution the mean estimate is within
    /// 4 standard errors of 0. The plug-in (biased, diagonal included) estimate of the same pairs is
    /// significantly positive, which shows the test can tell the two apart.
    /// </summary>
    [Fact]
    public void IsUnbiasedForEqualDistributions()
    {
        var rng = new Rng(2024);
        int pairs = 300, m = 40, d = 6;
        var values = new double[pairs];
        var biased = new double[pairs];
        for (int p = 0; p < pairs; p++)
        {
            var x = Sample(rng, m, d, 0);
            var y = Sample(rng, m, d, 0);
            values[p] = Kid.UnbiasedMmd2(x, m, y, m, d);
            biased[p] = values[p] + (DiagonalMean(x, m, d) - Kid_OffDiagonalMean(x, m, d) + DiagonalMean(y, m, d) - Kid_OffDiagonalMean(y, m, d)) / m;
        }
        var (mean, se) = MeanAndStandardError(values);
        Math.Abs(mean).Should().BeLessThan(4 * se, $"mean {mean:E3}, standard error {se:E3}");
        var (bMean, bSe) = MeanAndStandardError(biased);
        bMean.Should().BeGreaterThan(4 * bSe, "the biased estimator has a positive offset");
    }

    [Fact]
    public void ShiftedDistributionsHavePositiveKid()
    {
        var rng = new Rng(9);
        int n = 400, d = 8;
        var x = Sample(rng, n, d, 0);
        var y = Sample(rng, n, d, 0.5f);
        var kid = Kid.Compute(x, n, y, n, d, new Rng(1), subsets: 20, subsetSize: 100);
        kid.Mean.Should().BeGreaterThan(5 * kid.Std / Math.Sqrt(20));
        kid.SubsetSize.Should().Be(100);
        var again = Kid.Compute(x, n, y, n, d, new Rng(1), subsets: 20, subsetSize: 100);
        again.Should().Be(kid, "the same seed draws the same subsets");
    }

    [Fact]
    public void TooFewVectorsThrow()
    {
        var act = () => Kid.UnbiasedMmd2([1f, 2f], 1, [1f, 2f, 3f, 4f], 2, 2);
        act.Should().Throw<ArgumentException>();
    }

    private static float[] Sample(Rng rng, int n, int d, float shift)
    {
        var x = new float[n * d];
        rng.FillNormal(x, shift, 1f);
        return x;
    }

    private static double K(float[] x, int i, float[] y, int j, int d)
    {
        double dot = 0;
        for (int t = 0; t < d; t++) dot += (double)x[i * d + t] * y[j * d + t];
        return Math.Pow(dot / d + 1, 3);
    }

    private static double DiagonalMean(float[] x, int m, int d) => Enumerable.Range(0, m).Average(i => K(x, i, x, i, d));

    private static double Kid_OffDiagonalMean(float[] x, int m, int d)
    {
        double s = 0;
        for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) if (i != j) s += K(x, i, x, j, d);
        return s / (m * (m - 1.0));
    }

    private static (double Mean, double StandardError) MeanAndStandardError(double[] v)
    {
        double mean = v.Average();
        double var = v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1);
        return (mean, Math.Sqrt(var / v.Length));
    }
}
