using Cedm.Metrics;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Metrics;

/// <summary>Fréchet distance (spec §6.1) against scipy's sqrtm-based pytorch-fid formula and closed forms.</summary>
public sealed class FrechetDistanceTests
{
    /// <summary>The bar: scipy agreement to 1e-6 relative (scipy's own eigvals variant differs by ≤ 2e-7 on these sets).</summary>
    private const double FixtureRelTol = 1e-6;

    [Theory]
    [InlineData("well")]
    [InlineData("rank_deficient")]
    [InlineData("near_singular")]
    [InlineData("large_mean")]
    public void MatchesScipyFixture(string name)
    {
        var fx = FixtureFile.Load($"metrics/fd/fd_{name}.bin");
        Tensor a = fx["a"], b = fx["b"];
        double expected = fx["fd"].Data[0];
        double fd = FrechetDistance.FromFeatures(a.Data, a.Shape[0], b.Data, b.Shape[0], a.Shape[1]);
        Math.Abs(fd - expected).Should().BeLessThanOrEqualTo(FixtureRelTol * Math.Abs(expected), $"{name}: ours {fd:R}, scipy {expected:R}");
    }

    /// <summary>
    /// FD(x, x) is 0 up to round-off of the eigen-solves: bound 1e-9·(1 + Tr Σ) in float64. The scipy fixture's own
    /// FD(x, x) is reported for comparison (sqrtm leaves larger residues on singular inputs).
    /// </summary>
    [Theory]
    [InlineData("well")]
    [InlineData("rank_deficient")]
    [InlineData("near_singular")]
    [InlineData("large_mean")]
    public void SelfDistanceIsZero(string name)
    {
        var a = FixtureFile.Load($"metrics/fd/fd_{name}.bin")["a"];
        int n = a.Shape[0], d = a.Shape[1];
        var s = FeatureStatistics.FromFeatures(a.Data, n, d);
        var cov = s.Covariance();
        double trace = Enumerable.Range(0, d).Sum(i => cov[i * d + i]);
        double fd = FrechetDistance.FromStatistics(s.Mean(), cov, s.Mean(), cov);
        Math.Abs(fd).Should().BeLessThan(1e-9 * (1 + trace), $"{name}: FD(x,x) = {fd:E3}, Tr Σ = {trace:G4}");
    }

    [Fact]
    public void DiagonalGaussiansHaveTheClosedForm()
    {
        // For commuting (diagonal) covariances FD = ‖μ1−μ2‖² + Σ (√a_i − √b_i)².
        var rng = new Rng(7);
        int d = 12;
        var m1 = Enumerable.Range(0, d).Select(_ => rng.NextNormal()).ToArray();
        var m2 = Enumerable.Range(0, d).Select(_ => rng.NextNormal()).ToArray();
        var a = Enumerable.Range(0, d).Select(i => i == 3 ? 0.0 : 0.1 + rng.NextDouble()).ToArray();   // one zero variance
        var b = Enumerable.Range(0, d).Select(_ => 0.1 + 3 * rng.NextDouble()).ToArray();
        double expected = 0;
        for (int i = 0; i < d; i++) expected += (m1[i] - m2[i]) * (m1[i] - m2[i]) + Math.Pow(Math.Sqrt(a[i]) - Math.Sqrt(b[i]), 2);
        double fd = FrechetDistance.FromStatistics(m1, Diag(a), m2, Diag(b));
        fd.Should().BeApproximately(expected, 1e-10 * expected);
    }

    [Fact]
    public void IsSymmetricAndInvariantToRotation()
    {
        var rng = new Rng(3);
        int d = 10;
        var (m1, c1) = RandomGaussian(rng, d);
        var (m2, c2) = RandomGaussian(rng, d);
        double fd = FrechetDistance.FromStatistics(m1, c1, m2, c2);
        FrechetDistance.FromStatistics(m2, c2, m1, c1).Should().BeApproximately(fd, 1e-10 * fd);
        // Rotating both Gaussians by the same orthogonal Q leaves FD unchanged.
        var (_, q) = SymmetricEigen.Decompose(c1, d);   // rows of an orthogonal matrix
        double rotated = FrechetDistance.FromStatistics(MulVec(q, m1, d), Conj(q, c1, d), MulVec(q, m2, d), Conj(q, c2, d));
        rotated.Should().BeApproximately(fd, 1e-9 * fd);
    }

    [Fact]
    public void MismatchedDimensionsThrow()
    {
        var act = () => FrechetDistance.FromStatistics(new double[3], new double[9], new double[4], new double[16]);
        act.Should().Throw<ArgumentException>().WithMessage("*do not match*");
    }

    internal static double[] Diag(double[] v)
    {
        var m = new double[v.Length * v.Length];
        for (int i = 0; i < v.Length; i++) m[i * v.Length + i] = v[i];
        return m;
    }

    private static (double[] Mean, double[] Cov) RandomGaussian(Rng rng, int d)
    {
        var mean = Enumerable.Range(0, d).Select(_ => rng.NextNormal()).ToArray();
        var l = Enumerable.Range(0, d * d).Select(_ => rng.NextNormal()).ToArray();
        var cov = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) cov[i * d + j] += l[i * d + k] * l[j * d + k] / d;
        return (mean, cov);
    }

    private static double[] MulVec(double[] q, double[] v, int d)
        => Enumerable.Range(0, d).Select(i => Enumerable.Range(0, d).Sum(j => q[i * d + j] * v[j])).ToArray();

    private static double[] Conj(double[] q, double[] c, int d)
    {
        var r = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++)
                    for (int l = 0; l < d; l++) s += q[i * d + k] * c[k * d + l] * q[j * d + l];
                r[i * d + j] = s;
            }
        return r;
    }
}
