using Cedm.Clustering;
using Cedm.Clustering.Temi;
using Cedm.Tensors;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Clustering.Temi;

public sealed class TemiClustererTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-temi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RecoversGaussianBlobsWithSmallCpuHeads()
    {
        var (x, labels) = GaussianBlobs.Generate(1200, 6, 16, new Rng(11));
        var temi = new TemiClusterer(6, TestPresets.SmallTemi);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var a = temi.Fit(x, new Rng(0));
        double acc = ClusterAccuracy.Compute(a.Ids, labels);
        output.WriteLine($"ACC {acc:F4}, utilised {a.Utilized}/6, best head {temi.LastTraining!.BestHead}, {clock.Elapsed.TotalSeconds:F2} s, last losses {string.Join(" ", temi.LastTraining.EpochHeadLosses[^1].Select(l => l.ToString("F4")))}");
        acc.Should().BeGreaterThanOrEqualTo(0.95);
        a.Probabilities!.Length.Should().Be(1200 * 6);
        for (int i = 0; i < 1200; i++)
            a.Confidence[i].Should().Be(a.Probabilities.AsSpan(i * 6, 6).ToArray().Max(), "confidence is the max softmax probability");
        var losses = temi.LastTraining.EpochHeadLosses;
        temi.LastTraining.BestHead.Should().Be(Array.IndexOf(losses[^1], losses[^1].Min()));
    }

    /// <summary>
    /// 10 blobs in 24-D, N = 800: the 4-head CPU preset runs 30 epochs × 16 steps = 480 steps. With the recipe's constant
    /// teacher momentum 0.996 (MomentumReferenceSteps = 0) TEMI seed 0 merges and splits blobs (NMI 0.933, seed 1 0.943;
    /// tools/experiments/TemiProbe); with the momentum scaled to the run's length (0.996^(4800/480) = 0.961) it recovers them.
    /// </summary>
    [Fact]
    public void ShortRunsScaleTheTeacherMomentumAndRecoverTenBlobs()
    {
        var (x, labels) = GaussianBlobs.Generate(800, 10, 24, new Rng(3));
        var temi = new TemiClusterer(10, TestPresets.SmallTemi);
        var a = temi.Fit(x, new Rng(0));
        double nmi = Cedm.Metrics.Clustering.Nmi.Compute(Cedm.Metrics.Clustering.Contingency.FromLabels(a.Ids, labels));
        output.WriteLine($"NMI {nmi:F4}, utilised {a.Utilized}/10, teacher momentum {temi.LastTraining!.TeacherMomentum:F4}");
        temi.LastTraining.TeacherMomentum.Should().BeApproximately(Math.Pow(0.996, 4800.0 / 480), 1e-12);
        a.Utilized.Should().Be(10);
        nmi.Should().BeGreaterThanOrEqualTo(0.99);
    }

    [Fact]
    public void TeacherMomentumIsTheRecipesAtOrAboveTheRecipesLength()
    {
        var o = TemiOptions.Spec();
        o.EffectiveTeacherMomentum(4800).Should().Be(0.996);
        o.EffectiveTeacherMomentum(100_000).Should().Be(0.996);
        o.EffectiveTeacherMomentum(2400).Should().BeApproximately(0.996 * 0.996, 1e-12);
        (o with { MomentumReferenceSteps = 0 }).EffectiveTeacherMomentum(10).Should().Be(0.996);
    }

    [Fact]
    public void SavedModelReloadsAndPredictsTheSameIds()
    {
        var (x, _) = GaussianBlobs.Generate(300, 3, 8, new Rng(5));
        var opts = TemiOptions.CpuDefault() with { Epochs = 3, WarmupEpochs = 1, Heads = 2, Hidden = 32, Bottleneck = 16 };
        var temi = new TemiClusterer(3, opts);
        var a = temi.Fit(x, new Rng(0));
        string path = Path.Combine(_dir, ClusterModels.FileName);
        temi.LastModel!.Save(path);
        var back = ClusterModels.Load(_dir);
        back.Should().BeOfType<TemiModel>().Which.K.Should().Be(3);
        var (ids, conf) = back.Predict(x);
        ids.Should().Equal(a.Ids);
        conf.Should().Equal(a.Confidence);
        FluentActions.Invoking(() => temi.LastModel.Save(path)).Should().Throw<IOException>("outputs are never overwritten silently");
    }

    [Fact]
    public void SameSeedGivesTheSameClustering()
    {
        var (x, _) = GaussianBlobs.Generate(200, 3, 8, new Rng(5));
        var opts = TemiOptions.CpuDefault() with { Epochs = 2, WarmupEpochs = 1, Heads = 2, Hidden = 32, Bottleneck = 16 };
        var a = new TemiClusterer(3, opts).Fit(x, new Rng(4));
        var b = new TemiClusterer(3, opts).Fit(x, new Rng(4));
        a.Probabilities.Should().Equal(b.Probabilities);
    }

    /// <summary>
    /// Blobs far from the origin in the positive orthant (as ReLU-averaged network features are): every cosine
    /// neighbour looks alike before centring (with Whiten = 0 this run put every point in one cluster: ACC 0.2). Whitened,
    /// TEMI recovers the blobs, and a saved model
    /// applies the same whitening when it predicts.
    /// </summary>
    [Fact]
    public void WhiteningRecoversBlobsOfUncentredPositiveFeaturesAndIsSavedWithTheModel()
    {
        var (x, labels) = GaussianBlobs.Generate(800, 5, 16, new Rng(4), centreSpread: 3f, std: 0.6f);
        var shifted = new Tensor(x.ToArray().Select(v => v + 40f).ToArray(), 800, 16);
        var temi = new TemiClusterer(5, TestPresets.SmallTemi with { Whiten = 8 });
        var a = temi.Fit(shifted, new Rng(0));
        ClusterAccuracy.Compute(a.Ids, labels).Should().BeGreaterThanOrEqualTo(0.95);
        a.Options!["whitened_dimension"]!.GetValue<int>().Should().Be(8);
        temi.LastModel!.InputDim.Should().Be(16);
        temi.LastModel.Head.InputDim.Should().Be(8);

        string path = Path.Combine(_dir, "model.safetensors");
        temi.LastModel.Save(path);
        var loaded = ClusterModels.Load(_dir);
        var (ids, conf) = loaded.Predict(shifted);
        ids.Should().Equal(a.Ids);
        conf.Should().Equal(a.Confidence);
    }
}
