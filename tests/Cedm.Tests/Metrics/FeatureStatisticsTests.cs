using Cedm.Metrics;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;
using FluentAssertions;

namespace Cedm.Tests.Metrics;

public sealed class FeatureStatisticsTests
{
    [Fact]
    public void StreamingEqualsTwoPassReference()
    {
        var rng = new Rng(11);
        int n = 2500, d = 7;   // > one internal block of 1024 rows
        var x = new float[n * d];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(1000 + rng.NextNormal() * (1 + i % d));
        var s = new FeatureStatistics(d);
        s.Add(x.AsSpan(0, 300 * d), 300);
        s.Add(x.AsSpan(300 * d), n - 300);
        s.Count.Should().Be(n);

        // Two-pass reference: mean, then Σ (x−μ)(x−μ)ᵀ / (N−1).
        var mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += x[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        var cov = new double[d * d];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++) cov[a * d + b] += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]);
        for (int k = 0; k < cov.Length; k++) cov[k] /= n - 1;

        s.Mean().Should().Equal(mean, (p, q) => Math.Abs(p - q) < 1e-9);
        s.Covariance().Should().Equal(cov, (p, q) => Math.Abs(p - q) < 1e-9 * (1 + Math.Abs(q)));
    }

    [Fact]
    public void NeedsTwoRowsForCovariance()
    {
        var s = FeatureStatistics.FromFeatures([1f, 2f], 1, 2);
        s.Mean().Should().Equal(1.0, 2.0);
        var act = () => s.Covariance();
        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void SaveAndLoadRoundTripInFloat64()
    {
        string dir = Directory.CreateTempSubdirectory("cedm-stats-").FullName;
        try
        {
            var s = FeatureStatistics.FromFeatures([1f, 2f, 3f, 5f, 4f, 1f], 3, 2);
            s.Save(dir);
            var (m, c) = FeatureStatistics.Load(dir);
            m.Should().Equal(s.Mean());
            c.Should().Equal(s.Covariance());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void DgemmBackEndsAgree(bool ta, bool tb)
    {
        var rng = new Rng(5);
        int m = 37, n = 29, k = 41;
        var a = Enumerable.Range(0, m * k).Select(_ => rng.NextNormal()).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => rng.NextNormal()).ToArray();
        var c1 = Enumerable.Range(0, m * n).Select(_ => rng.NextNormal()).ToArray();
        var c0 = (double[])c1.Clone();
        var c2 = (double[])c1.Clone();
        GemmDouble.Dgemm(ta, tb, m, n, k, 0.7, a, ta ? m : k, b, tb ? k : n, 0.3, c1, n);
        GemmDouble.Managed(ta, tb, m, n, k, 0.7, a, ta ? m : k, b, tb ? k : n, 0.3, c2, n);
        // Naive triple loop as the oracle.
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c1[i * n + j].Should().BeApproximately(c2[i * n + j], 1e-12);
                c2[i * n + j].Should().BeApproximately(0.7 * s + 0.3 * c0[i * n + j], 1e-12);
            }
    }
}
