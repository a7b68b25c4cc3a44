using Cedm.Clustering;
using Cedm.IO;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Clustering;

public sealed class ClusterModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-models-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void KMeansModelSavesLoadsAndPredictsLikeTheFit()
    {
        var (x, _) = ClusterTestData.Blobs(n: 800, k: 4, d: 6, spread: 2f, seed: 12);
        var km = new KMeans(new KMeansOptions { K = 4 });
        var a = km.Fit(x, new Rng(1));
        km.Model!.Save(Path.Combine(_dir, ClusterModels.FileName));
        var loaded = ClusterModels.Load(_dir);
        loaded.Should().BeOfType<KMeansModel>().Which.Temperature.Should().Be(km.Model.Temperature);
        var (ids, conf) = loaded.Predict(x);
        ids.Should().Equal(a.Ids);
        conf.Should().Equal(a.Confidence);
        // New data: a point at a centroid goes to that cluster with the highest confidence of its cluster.
        var c2 = km.Result!.Centers.AsSpan(2 * 6, 6).ToArray();
        loaded.Predict(new Tensor(c2, 1, 6)).Ids.Should().Equal(2);
    }

    [Fact]
    public void GmmModelSavesLoadsAndPredictsLikeTheFit()
    {
        var (x, _) = ClusterTestData.Blobs(n: 800, k: 3, d: 4, spread: 2f, seed: 13);
        foreach (var type in new[] { CovarianceType.Full, CovarianceType.Diag })
        {
            var g = new GaussianMixture(new GaussianMixtureOptions { K = 3, Covariance = type });
            var a = g.Fit(x, new Rng(1));
            string path = Path.Combine(_dir, $"gmm-{type}.safetensors");
            g.Result!.Model.Save(path);
            var loaded = ClusterModels.Load(path).Should().BeOfType<GmmModel>().Subject;
            loaded.Type.Should().Be(type);
            var (ids, conf) = loaded.Predict(x);
            ids.Zip(a.Ids).Count(p => p.First != p.Second).Should().BeLessThanOrEqualTo(2, "float32 storage may flip exact ties only");
            for (int i = 0; i < conf.Length; i++) conf[i].Should().BeApproximately(a.Confidence[i], 1e-3f);
        }
    }

    [Fact]
    public void UnknownOrMissingKindIsAClearError()
    {
        string path = Path.Combine(_dir, "odd.safetensors");
        Safetensors.Write(path, [("centers", [1, 1], [0f])], new Dictionary<string, string> { ["kind"] = "spectral" });
        ((Action)(() => ClusterModels.Load(path))).Should().Throw<InvalidDataException>().WithMessage("*spectral*");
        Safetensors.Write(path, [("centers", [1, 1], [0f])]);
        ((Action)(() => ClusterModels.Load(path))).Should().Throw<InvalidDataException>().WithMessage("*kind*");
        ((Action)(() => ClusterModels.Load(Path.Combine(_dir, "none")))).Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void PredictRejectsTheWrongDimension()
    {
        var m = new KMeansModel(new float[6], 2, 3, 1.0, false);
        ((Action)(() => m.Predict(new Tensor(new float[8], 2, 4)))).Should().Throw<ArgumentException>().WithMessage("*(N, 3)*");
    }
}
