using Cedm.Clustering;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Clustering;

/// <summary>Against scikit-learn on the same data (tools/fixtures/make_cluster_fixtures.py).</summary>
public sealed class SklearnReferenceTests
{
    private static readonly FixtureFile Blobs = FixtureFile.Load("clustering/blobs.bin");

    [Fact]
    public void KMeansInertiaIsWithinOnePercentOfSklearns()
    {
        var x = Blobs["x"];
        double sk = Blobs["kmeans_inertia"].Data[0];
        var km = new KMeans(new KMeansOptions { K = 5, NInit = 10 }); // sklearn's fixture used n_init = 10
        km.Fit(x, new Rng(0));
        km.Result!.Inertia.Should().BeLessThanOrEqualTo(1.01 * sk);
        km.Result.Inertia.Should().BeGreaterThan(0.9 * sk, "an inertia far below sklearn's best would mean a wrong inertia");
    }

    [Theory]
    [InlineData(CovarianceType.Full, "full")]
    [InlineData(CovarianceType.Diag, "diag")]
    public void GmmReachesSklearnsLogLikelihood(CovarianceType type, string name)
    {
        var x = Blobs["x"];
        double sk = Blobs[$"gmm_{name}_loglik"].Data[0];
        var g = new GaussianMixture(new GaussianMixtureOptions { K = 5, Covariance = type, NInit = 5 });
        g.Fit(x, new Rng(0));
        g.Result!.MeanLogLikelihood.Should().BeGreaterThanOrEqualTo(sk - 1e-3);
    }

    [Theory]
    [InlineData("blobs.bin", "full", 5)]
    [InlineData("blobs.bin", "diag", 5)]
    [InlineData("fmnist.bin", "full", 10)]
    public void EStepReproducesSklearnsScoreOnItsParameters(string file, string name, int k)
    {
        var f = FixtureFile.Load("clustering/" + file);
        var x = f["x"];
        var type = name == "full" ? CovarianceType.Full : CovarianceType.Diag;
        var model = new GmmModel(type, D(f[$"gmm_{name}_weights"]), D(f[$"gmm_{name}_means"]), D(f[$"gmm_{name}_covariances"]), k, x.Shape[1]);
        double expected = f.Contains($"gmm_{name}_score") ? f[$"gmm_{name}_score"].Data[0] : f[$"gmm_{name}_loglik"].Data[0];
        var logResp = new double[x.Shape[0] * k];
        // Parameters pass through float32 in the fixture: agreement to ~1e-4 per sample is the float32 limit here.
        model.EStep(x.Data, x.Shape[0], logResp).Should().BeApproximately(expected, 2e-4 * Math.Max(1, Math.Abs(expected)));
    }

    private static double[] D(Tensor t) => t.Data.Select(v => (double)v).ToArray();
}
