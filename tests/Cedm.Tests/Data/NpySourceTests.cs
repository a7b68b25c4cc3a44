using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

/// <summary>The npy: shape rules, with stand-in readers (the real .npy reader is Cedm.IO.Npy, wired after merge).</summary>
public sealed class NpySourceTests : IDisposable
{
    private readonly string _images = Path.GetTempFileName();
    private readonly string _labels = Path.GetTempFileName();

    public void Dispose()
    {
        File.Delete(_images);
        File.Delete(_labels);
    }

    private static NpySource.NpyReaders Readers(int[] shape, long[]? labels = null) => new(
        _ => (new byte[shape.Aggregate(1, (a, b) => a * b)], shape),
        _ => labels ?? []);

    [Fact]
    public void ThreeDimensionalImagesAreGray()
    {
        var d = NpySource.Load(_images, null, readers: Readers([5, 6, 7]));
        (d.Count, d.Height, d.Width, d.Channels).Should().Be((5, 6, 7, 1));
        d.Labels.Should().BeNull();
    }

    [Fact]
    public void FourDimensionalImagesWithLabels()
    {
        var d = NpySource.Load(_images, _labels, readers: Readers([2, 4, 4, 3], [7, 9]));
        (d.Count, d.Channels).Should().Be((2, 3));
        d.Labels.Should().Equal(7, 9);
    }

    [Fact]
    public void TransformsApply()
        => NpySource.Load(_images, null, new TransformOptions { Pad = 2 }, Readers([1, 28, 28])).Height.Should().Be(32);

    [Theory]
    [InlineData(new[] { 10, 28 })]
    [InlineData(new[] { 10, 28, 28, 5 })]
    [InlineData(new[] { 10, 0, 28 })]
    public void BadShapesAreRejected(int[] shape)
    {
        var act = () => NpySource.Load(_images, null, readers: Readers(shape));
        act.Should().Throw<InvalidDataException>().WithMessage("*expected uint8 (N,H,W) or (N,H,W,C)*");
    }

    [Fact]
    public void LabelCountMustMatch()
    {
        var act = () => NpySource.Load(_images, _labels, readers: Readers([3, 2, 2], [1, 2]));
        act.Should().Throw<InvalidDataException>().WithMessage("*2 labels*3 images*");
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var act = () => NpySource.Load("/nonexistent/x.npy");
        act.Should().Throw<FileNotFoundException>().WithMessage("*x.npy*");
    }
}
