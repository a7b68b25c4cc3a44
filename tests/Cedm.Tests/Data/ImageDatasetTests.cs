using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

public class ImageDatasetTests
{
    // 2 images of 2x3 pixels with 2 channels, [N, H, W, C]; value = 100 n + 10 * (y * 3 + x) + c.
    private static ImageDataset Small()
    {
        var pixels = new byte[2 * 2 * 3 * 2];
        for (int n = 0; n < 2; n++)
            for (int p = 0; p < 6; p++)
                for (int c = 0; c < 2; c++)
                    pixels[(n * 6 + p) * 2 + c] = (byte)(100 * n + 10 * p + c);
        return new ImageDataset("small", pixels, 2, 2, 3, 2, [4, 7]);
    }

    [Fact]
    public void TrainingRangeIsNchwAndMapsUint8OntoMinusOneToOne()
    {
        float[] x = Small().ToTrainingRange();   // [2, 2, 2, 3]
        x.Should().HaveCount(24);
        // Image 1, channel 1, pixel p = 4 (y 1, x 1): u = 100 + 40 + 1 = 141.
        x[1 * 12 + 1 * 6 + 4].Should().BeApproximately(141 / 127.5f - 1, 1e-6f);
        // Image 0, channel 0, pixel 0: u = 0 -> -1.
        x[0].Should().Be(-1f);
        var extremes = new ImageDataset("e", [0, 255], 2, 1, 1, 1).ToTrainingRange();
        extremes.Should().Equal(-1f, 1f);
    }

    [Fact]
    public void FromTrainingRangeInvertsToTrainingRangeExactly()
    {
        var all = new ImageDataset("all", Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), 1, 16, 16, 1);
        ImageDataset.FromTrainingRange(all.ToTrainingRange(), 1, 1, 16, 16).Should().Equal(all.Pixels);
        var d = Small();
        ImageDataset.FromTrainingRange(d.ToTrainingRange(), 2, 2, 2, 3).Should().Equal(d.Pixels);
    }

    [Fact]
    public void FromTrainingRangeClipsAndHandlesNaN()
        => ImageDataset.FromTrainingRange([-3f, 5f, float.NaN, 0f], 4, 1, 1, 1).Should().Equal(0, 255, 0, 128);

    [Fact]
    public void SelectKeepsImagesAndLabels()
    {
        var s = Small().Select([1, 1, 0]);
        s.Count.Should().Be(3);
        s.Labels.Should().Equal(7, 7, 4);
        s.Image(2).ToArray().Should().Equal(Small().Image(0).ToArray());
    }

    [Fact]
    public void ChannelStatistics()
    {
        var d = new ImageDataset("s", [0, 10, 2, 10, 4, 10, 6, 10], 1, 2, 2, 2);
        var (mean, std) = d.ChannelStatistics();
        mean.Should().Equal(3, 10);
        std[0].Should().BeApproximately(Math.Sqrt(5), 1e-12);
        std[1].Should().Be(0);
    }

    [Fact]
    public void WrongBufferSizeIsRejectedWithTheShape()
    {
        var act = () => new ImageDataset("bad", new byte[10], 2, 2, 2, 1);
        act.Should().Throw<ArgumentException>().WithMessage("*2x2x2x1*");
    }
}
