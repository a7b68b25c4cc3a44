using Cedm.Clustering;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Metrics;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.FeatureConditioning;

/// <summary>
/// The whitening and the per-component Gaussians against scikit-learn (fixture by
/// tools/fixtures/make_feature_cond_fixtures.py: PCA(whiten=True) and sklearn's own GMM M-step with given soft and
/// hard responsibilities), and draws from <see cref="FeatureMixture"/> with the right mean and covariance.
/// </summary>
public sealed class FeatureMixtureTests
{
    private static readonly FixtureFile Fx = FixtureFile.Load("clustering/feature_cond.bin");
    private const int N = 90, Din = 6, D = 4, K = 3;

    [Fact]
    public void WhiteningMatchesScikitLearnUpToTheSignOfEachComponent()
    {
        var (mean, projection, eig) = FeatureWhitening.Fit(Fx["x"].Data, N, Din, D);
        var z = new FeatureSpace(mean, projection, eig).Apply(Fx["x"].Data, N);
        var expected = Fx["z"].Data;
        for (int k = 0; k < D; k++)
        {
            eig[k].Should().BeApproximately(Fx["explained_variance"].Data[k], 1e-4 * eig[0]);
            double dot = 0;
            for (int i = 0; i < N; i++) dot += z[i * D + k] * expected[i * D + k];
            double sign = Math.Sign(dot);
            for (int i = 0; i < N; i++) z[i * D + k].Should().BeApproximately((float)(sign * expected[i * D + k]), 2e-4f, $"row {i}, component {k}");
        }
    }

    [Theory]
    [InlineData("soft")]
    [InlineData("hard")]
    public void DiagonalAndFullCovariancesMatchScikitLearnsMStep(string kind)
    {
        var z = Fx["z"].Data;
        var resp = Fx[kind + "_resp"].Data;
        var diag = ComponentGaussians.Fit(z, N, D, resp, K, new CovarianceModel(Rank: 0));
        var full = ComponentGaussians.Fit(z, N, D, resp, K, new CovarianceModel(Rank: D));
        for (int c = 0; c < K; c++)
        {
            diag.Weights[c].Should().BeApproximately(Fx[kind + "_weights"].Data[c], 1e-6);
            for (int j = 0; j < D; j++)
            {
                diag.Means[c * D + j].Should().BeApproximately(Fx[kind + "_means"].Data[c * D + j], 1e-5);
                diag.Diagonal[c * D + j].Should().BeApproximately(Fx[kind + "_diag"].Data[c * D + j], 1e-5);
            }
            var sigma = Mixture(full).Covariance(c);
            for (int a = 0; a < D * D; a++) sigma[a].Should().BeApproximately(Fx[kind + "_full"].Data[c * D * D + a], 1e-5, $"component {c} entry {a}");
        }
    }

    [Fact]
    public void ShrinkageAndLowRankFollowTheirDefinitions()
    {
        var z = Fx["z"].Data;
        var resp = Fx["soft_resp"].Data;
        const double lambda = 0.3, floor = 1e-6;
        var shrunk = Mixture(ComponentGaussians.Fit(z, N, D, resp, K, new CovarianceModel(Rank: D, Shrinkage: lambda)));
        var lowRank = Mixture(ComponentGaussians.Fit(z, N, D, resp, K, new CovarianceModel(Rank: 1, Shrinkage: lambda)));
        for (int c = 0; c < K; c++)
        {
            // sklearn's full covariance carries reg_covar = 1e-6 on the diagonal; S is the plain M-step estimate.
            var s = Fx["soft_full"].Data.AsSpan(c * D * D, D * D).ToArray().Select(v => (double)v).ToArray();
            for (int a = 0; a < D; a++) s[a * D + a] -= 1e-6;
            double trace = Enumerable.Range(0, D).Sum(a => s[a * D + a]);
            var got = shrunk.Covariance(c);
            for (int a = 0; a < D; a++)
                for (int b = 0; b < D; b++)
                {
                    double expected = (1 - lambda) * s[a * D + b] + (a == b ? lambda * trace / D + floor : 0);
                    got[a * D + b].Should().BeApproximately(expected, 1e-5);
                }
            // Probabilistic PCA keeps the trace, and rank 1 + isotropic is not the full matrix.
            var lr = lowRank.Covariance(c);
            Enumerable.Range(0, D).Sum(a => lr[a * D + a]).Should().BeApproximately(trace + D * floor, 1e-5);
            lr.Zip(got, (p, q) => Math.Abs(p - q)).Max().Should().BeGreaterThan(1e-3);
        }
        lowRank.Rank.Should().Be(1);
        lowRank.Diagonal.Distinct().Count().Should().Be(K, "one isotropic remainder per component");
    }

    [Fact]
    public void DrawsHaveTheComponentsMeanAndTemperedCovariance()
    {
        var g = ComponentGaussians.Fit(Fx["z"].Data, N, D, Fx["soft_resp"].Data, K, new CovarianceModel(Rank: 2, Shrinkage: 0.1));
        var m = Mixture(g);
        const int draws = 40_000, c = 1;
        const double s = 0.6;
        var rng = new Rng(7);
        var sum = new double[D];
        var outer = new double[D * D];
        Span<float> z = stackalloc float[D];
        for (int t = 0; t < draws; t++)
        {
            m.Draw(c, s, rng, z);
            for (int a = 0; a < D; a++)
            {
                sum[a] += z[a];
                for (int b = 0; b < D; b++) outer[a * D + b] += (double)z[a] * z[b];
            }
        }
        var sigma = m.Covariance(c);
        for (int a = 0; a < D; a++)
        {
            double mean = sum[a] / draws;
            double se = Math.Sqrt(s * s * sigma[a * D + a] / draws);
            mean.Should().BeApproximately(g.Means[c * D + a], 5 * se);
        }
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++)
            {
                double cov = outer[a * D + b] / draws - sum[a] / draws * (sum[b] / draws);
                double expected = s * s * sigma[a * D + b];
                double se = s * s * Math.Sqrt((sigma[a * D + a] * sigma[b * D + b] + sigma[a * D + b] * sigma[a * D + b]) / draws);
                cov.Should().BeApproximately(expected, 5 * se, $"entry ({a}, {b})");
            }
        // Interpolation: t = 0 and t = 1 are the endpoints' draws from the same normals.
        Span<float> a0 = stackalloc float[D], b1 = stackalloc float[D], da = stackalloc float[D], db = stackalloc float[D];
        m.Between(0, 2, 0, s, new Rng(3), a0);
        m.Draw(0, s, new Rng(3), da);
        m.Between(0, 2, 1, s, new Rng(3), b1);
        m.Draw(2, s, new Rng(3), db);
        a0.ToArray().Should().Equal(da.ToArray());
        b1.ToArray().Should().Equal(db.ToArray());
    }

    [Fact]
    public void ComponentsAreChosenByWeight()
    {
        var m = new FeatureMixture(1, 0, [0.2, 0.5, 0.3], [0, 1, 2], [1, 1, 1], [], [4, 7, 9]);
        m.Pick(0.0).Should().Be(0);
        m.Pick(0.19).Should().Be(0);
        m.Pick(0.2).Should().Be(1);
        m.Pick(0.69).Should().Be(1);
        m.Pick(0.71).Should().Be(2);
        m.IndexOf(7).Should().Be(1);
        m.IndexOf(5).Should().Be(-1);
    }

    private static FeatureMixture Mixture(GaussianComponents g) =>
        new(g.Dimension, g.Rank, g.Weights, g.Means, g.Diagonal, g.Factors, Enumerable.Range(0, g.K).Select(i => (long)i).ToArray());
}
