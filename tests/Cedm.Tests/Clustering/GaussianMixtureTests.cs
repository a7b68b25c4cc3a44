using Cedm.Clustering;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Clustering;

public sealed class GaussianMixtureTests
{
    [Theory]
    [InlineData(CovarianceType.Full)]
    [InlineData(CovarianceType.Diag)]
    public void RecoversBlobsWithSoftAssignments(CovarianceType type)
    {
        var (x, truth) = ClusterTestData.Blobs();
        var gmm = new GaussianMixture(new GaussianMixtureOptions { K = 5, Covariance = type });
        var a = gmm.Fit(x, new Rng(3));
        ClusterTestData.Accuracy(a.Ids, truth).Should().BeGreaterThanOrEqualTo(0.95);
        a.Probabilities.Should().NotBeNull();
        for (int i = 0; i < a.Count; i++)
        {
            var row = a.Probabilities!.AsSpan(i * 5, 5);
            float sum = 0, max = 0;
            foreach (float p in row) { sum += p; max = Math.Max(max, p); }
            sum.Should().BeApproximately(1f, 1e-5f);
            a.Confidence[i].Should().Be(max);
            row[a.Ids[i]].Should().Be(max);
        }
        gmm.Result!.Converged.Should().BeTrue();
        // Unit-variance blobs in 8-D: mean log-likelihood ≈ −(8/2)(ln 2π + 1) − ln 5 = −14.96.
        gmm.Result.MeanLogLikelihood.Should().BeApproximately(-4 * (Math.Log(2 * Math.PI) + 1) - Math.Log(5), 0.15);
    }

    [Theory]
    [InlineData(CovarianceType.Full)]
    [InlineData(CovarianceType.Diag)]
    public void LowerBoundNeverDecreases(CovarianceType type)
    {
        // Overlapping blobs so EM needs many iterations.
        var (x, _) = ClusterTestData.Blobs(n: 1500, k: 4, d: 5, spread: 1.2f, seed: 17);
        var gmm = new GaussianMixture(new GaussianMixtureOptions { K = 4, Covariance = type, Tol = 1e-7, MaxIter = 60 });
        gmm.Fit(x, new Rng(5));
        var lb = gmm.Result!.LowerBounds;
        lb.Count.Should().BeGreaterThan(5);
        for (int i = 1; i < lb.Count; i++) lb[i].Should().BeGreaterThanOrEqualTo(lb[i - 1] - 1e-6, $"iteration {i}");
        gmm.Result.MeanLogLikelihood.Should().BeGreaterThanOrEqualTo(lb[^1] - 1e-6);
    }

    [Fact]
    public void FullCovarianceBeatsDiagonalOnCorrelatedDataAndTiesOnAxisAlignedData()
    {
        var fx = Cedm.Tests.TestUtilities.FixtureFile.Load("clustering/blobs.bin");
        var x = fx["x"];
        double Fit(Tensor t, CovarianceType c)
        {
            var g = new GaussianMixture(new GaussianMixtureOptions { K = 5, Covariance = c, NInit = 3 });
            g.Fit(t, new Rng(1));
            return g.Result!.MeanLogLikelihood;
        }
        Fit(x, CovarianceType.Full).Should().BeGreaterThan(Fit(x, CovarianceType.Diag) + 0.5);
        var (iso, _) = ClusterTestData.Blobs(n: 1000, k: 3, d: 4, seed: 2);
        Fit2(iso).Should().BeLessThan(0.05, "a full covariance only adds noise-fitting freedom on axis-aligned blobs");
        double Fit2(Tensor t)
        {
            var full = new GaussianMixture(new GaussianMixtureOptions { K = 3, Covariance = CovarianceType.Full });
            var diag = new GaussianMixture(new GaussianMixtureOptions { K = 3, Covariance = CovarianceType.Diag });
            full.Fit(t, new Rng(1)); diag.Fit(t, new Rng(1));
            double gap = full.Result!.MeanLogLikelihood - diag.Result!.MeanLogLikelihood;
            gap.Should().BeGreaterThanOrEqualTo(-1e-3);
            return gap;
        }
    }

    [Fact]
    public void RegularisationKeepsDegenerateDataFittable()
    {
        // All points on a line in 3-D: the sample covariance is singular; RegCovar makes it positive definite.
        var x = new float[300 * 3];
        for (int i = 0; i < 300; i++) { x[i * 3] = i % 2 == 0 ? i : -i; x[i * 3 + 1] = 2 * x[i * 3]; x[i * 3 + 2] = 0; }
        var g = new GaussianMixture(new GaussianMixtureOptions { K = 2, RegCovar = 1e-3 });
        var a = g.Fit(new Tensor(x, 300, 3), new Rng(1));
        double.IsFinite(g.Result!.MeanLogLikelihood).Should().BeTrue();
        a.Utilized.Should().Be(2);
    }
}
