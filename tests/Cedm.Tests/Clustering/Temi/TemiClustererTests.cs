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
}
