using Cedm.Data;
using Cedm.Features.Ssl;
using FluentAssertions;

namespace Cedm.Tests.Features.Ssl;

/// <summary>SimCLR views: deterministic per (seed, view), varied across views, in range, shape-preserving.</summary>
public sealed class SslAugmentationTests
{
    internal static ImageDataset Gradients(int n, int size = 12, int channels = 1)
    {
        var px = new byte[n * size * size * channels];
        for (int i = 0; i < n; i++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    for (int c = 0; c < channels; c++)
                        px[((i * size + y) * size + x) * channels + c] = (byte)((x * 20 + y * (i % 3) * 7 + c * 40 + i * 11) % 256);
        return new ImageDataset("gradients", px, n, size, size, channels);
    }

    [Fact]
    public void SameSeedAndViewNumbersGiveTheSameViews()
    {
        var images = Gradients(6);
        var aug = new SslAugmentation(new SslAugmentOptions());
        var a = aug.Views(images, [0, 1, 2, 3, 4, 5, 0, 1], 7, 100);
        var b = aug.Views(images, [0, 1, 2, 3, 4, 5, 0, 1], 7, 100);
        a.ShapeArray().Should().Equal(8, 1, 12, 12);
        a.Data.Should().Equal(b.Data);
        // Another seed, or the same image as another view number, gives a different view.
        aug.Views(images, [0], 8, 100).Data.Should().NotEqual(a.Data.AsSpan(0, 144).ToArray());
        a.Data.AsSpan(0, 144).ToArray().Should().NotEqual(a.Data.AsSpan(6 * 144, 144).ToArray());
    }

    [Fact]
    public void ViewsStayNearTheTrainingRangeAndKeepColourImagesShaped()
    {
        var images = Gradients(4, 8, 3);
        var v = new SslAugmentation(new SslAugmentOptions(NoiseProbability: 0)).Views(images, [0, 1, 2, 3], 1, 0);
        v.ShapeArray().Should().Equal(4, 3, 8, 8);
        v.Data.Should().OnlyContain(x => x >= -1f && x <= 1f);
    }

    [Fact]
    public void WithoutRandomnessAViewIsTheImageInTrainingRange()
    {
        var images = Gradients(2);
        var identity = new SslAugmentOptions(MinScale: 1, MaxScale: 1, MinRatio: 1, MaxRatio: 1, FlipProbability: 0,
            JitterProbability: 0, NoiseProbability: 0);
        var v = new SslAugmentation(identity).Views(images, [1], 3, 0);
        var expected = images.ToTrainingRange(1, 1);
        for (int i = 0; i < expected.Length; i++) v.Data[i].Should().BeApproximately(expected[i], 1e-5f);
    }

    [Fact]
    public void AlwaysFlippingMirrorsTheImage()
    {
        var images = Gradients(1);
        var flip = new SslAugmentOptions(MinScale: 1, MaxScale: 1, MinRatio: 1, MaxRatio: 1, FlipProbability: 1,
            JitterProbability: 0, NoiseProbability: 0);
        var v = new SslAugmentation(flip).Views(images, [0], 3, 0).Data;
        var x = images.ToTrainingRange(0, 1);
        for (int y = 0; y < 12; y++)
            for (int c = 0; c < 12; c++) v[y * 12 + c].Should().BeApproximately(x[y * 12 + 11 - c], 1e-5f);
    }
}
