using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

/// <summary>Loads each split of the real data once (about 0.3 s each) for the tests below.</summary>
public sealed class FashionMnistFixture
{
    public ImageDataset Train { get; } = FashionMnist.Load(DataSplit.Train);
    public ImageDataset Test { get; } = FashionMnist.Load(DataSplit.Test);
}

/// <summary>
/// The real Fashion-MNIST from Debian's dataset-fashion-mnist (installed by tools/install-deps.sh).
/// Reference numbers were computed with numpy from the same gz files:
///   x = np.frombuffer(gzip.open('train-images-idx3-ubyte.gz').read(), np.uint8, offset=16)
///   x.astype(np.int64).sum() == 3431114169, mean 72.9404, std 90.0212; np.bincount(labels) == [6000] * 10;
///   first image sum 76247; first ten labels 9 0 0 3 0 2 7 2 5 5.
///   t10k: sum 573469082, first image sum 33456, first labels 9 2 1 1 6 1 4 6 5 7.
/// </summary>
public class FashionMnistTests(FashionMnistFixture data) : IClassFixture<FashionMnistFixture>
{
    [Fact]
    public void TrainSplitHas60000ImagesOf28x28x1With6000PerLabel()
    {
        var d = data.Train;
        (d.Count, d.Height, d.Width, d.Channels).Should().Be((60_000, 28, 28, 1));
        d.LabelCounts().Should().Equal(Enumerable.Range(0, 10).ToDictionary(k => (long)k, _ => 6_000));
        d.LabelNames.Should().HaveCount(10).And.HaveElementAt(9, "Ankle boot");
        d.Name.Should().Be("fashion-mnist:train");
    }

    [Fact]
    public void TrainSplitPixelStatisticMatchesNumpy()
    {
        var d = data.Train;
        d.Pixels.Sum(b => (long)b).Should().Be(3_431_114_169L);
        d.Image(0).ToArray().Sum(b => (long)b).Should().Be(76_247);
        d.Labels![..10].Should().Equal(9, 0, 0, 3, 0, 2, 7, 2, 5, 5);
        var (mean, std) = d.ChannelStatistics();
        mean[0].Should().BeApproximately(72.9404, 1e-4);
        std[0].Should().BeApproximately(90.0212, 1e-4);
    }

    [Fact]
    public void TestSplitHas10000ImagesWith1000PerLabel()
    {
        var d = data.Test;
        (d.Count, d.Height, d.Width, d.Channels).Should().Be((10_000, 28, 28, 1));
        d.LabelCounts().Values.Should().AllBeEquivalentTo(1_000).And.HaveCount(10);
        d.Pixels.Sum(b => (long)b).Should().Be(573_469_082L);
        d.Image(0).ToArray().Sum(b => (long)b).Should().Be(33_456);
        d.Labels![..10].Should().Equal(9, 2, 1, 1, 6, 1, 4, 6, 5, 7);
    }

    [Fact]
    public void MissingFilesSayHowToInstallThePackage()
    {
        string empty = Directory.CreateTempSubdirectory("cedm-no-fmnist-").FullName;
        try
        {
            var act = () => FashionMnist.Load(DataSplit.Train, empty);
            act.Should().Throw<FileNotFoundException>()
                .WithMessage("*train-images-idx3-ubyte.gz is missing*apt-get install dataset-fashion-mnist*");
        }
        finally
        {
            Directory.Delete(empty);
        }
    }
}
