using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

public class ImageTransformsTests
{
    [Fact]
    public void PadTurns28Into32()
    {
        var image = Enumerable.Repeat((byte)200, 28 * 28).ToArray();
        byte[] padded = ImageTransforms.Apply(image, 28, 28, 1, new TransformOptions { Pad = 2 });
        padded.Should().HaveCount(32 * 32);
        padded[0].Should().Be(0);
        padded[2 * 32 + 2].Should().Be(200);
        padded[29 * 32 + 29].Should().Be(200);
        padded[30 * 32 + 30].Should().Be(0);
        padded.Count(b => b == 200).Should().Be(28 * 28);
    }

    [Fact]
    public void AreaDownscaleByTwoAveragesBlocks()
    {
        byte[] image = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]; // 4x4 gray
        ImageTransforms.Resize(image, 4, 4, 1, 2, 2).Should().Equal(25, 45, 105, 125);
    }

    [Fact]
    public void AreaWeightsHandleFractionalCoverage()
    {
        // 3 -> 2: output 0 covers [0, 1.5): pixel 0 fully and half of pixel 1.
        var w = ImageTransforms.AxisWeights(3, 2);
        w[0].Should().Equal((0, 2f / 3), (1, 1f / 3));
        w[1].Should().Equal((1, 1f / 3), (2, 2f / 3));
    }

    [Fact]
    public void BilinearUpscaleInterpolatesBetweenPixelCentres()
    {
        // 1 x 2 -> 1 x 4: positions -0.25, 0.25, 0.75, 1.25 -> clamped 0, 0.25, 0.75, 1.
        ImageTransforms.Resize([0, 100], 1, 2, 1, 1, 4).Should().Equal(0, 25, 75, 100);
    }

    [Fact]
    public void ResolutionScalesTheShorterSideThenCropsTheCentre()
    {
        // 2 x 4 image: left half 0, right half 200; to 2x2 keeps the centre columns 1 and 2.
        byte[] image = [0, 0, 200, 200, 0, 0, 200, 200];
        ImageTransforms.Apply(image, 2, 4, 1, new TransformOptions { Resolution = 2 }).Should().Equal(0, 200, 0, 200);
    }

    [Fact]
    public void ConstantImageStaysConstantUnderAnyResize()
    {
        var image = Enumerable.Repeat((byte)77, 13 * 7 * 3).ToArray();
        foreach (int r in new[] { 1, 5, 7, 16, 40 })
            ImageTransforms.Apply(image, 13, 7, 3, new TransformOptions { Resolution = r }).Should().AllBeEquivalentTo((byte)77);
    }

    [Fact]
    public void DatasetTransformKeepsLabelsAndValidatesOptions()
    {
        var d = new ImageDataset("d", new byte[3 * 28 * 28], 3, 28, 28, 1, [1, 2, 3]);
        var t = ImageTransforms.Apply(d, new TransformOptions { Resolution = 16, Pad = 2 });
        (t.Count, t.Height, t.Width).Should().Be((3, 20, 20));
        t.Labels.Should().Equal(1, 2, 3);
        var act = () => ImageTransforms.Apply(d, new TransformOptions { Resolution = 0 });
        act.Should().Throw<ArgumentException>().WithMessage("must be*").Which.ParamName.Should().Be("Resolution");
    }
}
