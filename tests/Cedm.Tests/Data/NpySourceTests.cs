using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

/// <summary>The npy: source: shape rules with stand-in readers, and end to end through real .npy files (Cedm.IO.Npy).</summary>
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
    public void RealNpyFilesLoadThroughTheSourceSyntax()
    {
        var pixels = Enumerable.Range(0, 2 * 3 * 4 * 3).Select(i => (byte)(i * 7)).ToArray();
        Cedm.IO.Npy.Write(_images + ".npy", pixels, 2, 3, 4, 3);
        Cedm.IO.Npy.Write(_labels + ".npy", new long[] { 4, 1 }, 2);
        try
        {
            var d = DataSource.Load($"npy:{_images}.npy,{_labels}.npy");
            (d.Count, d.Height, d.Width, d.Channels).Should().Be((2, 3, 4, 3));
            d.Pixels.Should().Equal(pixels);
            d.Labels.Should().Equal(4, 1);
        }
        finally { File.Delete(_images + ".npy"); File.Delete(_labels + ".npy"); }
    }

    [Fact]
    public void NonUInt8ImagesAndFloatLabelsAreRejectedByName()
    {
        Cedm.IO.Npy.Write(_images + ".npy", new float[8], 2, 2, 2);
        Cedm.IO.Npy.Write(_labels + ".npy", new byte[8], 2, 2, 2);
        Cedm.IO.Npy.Write(_labels + "f.npy", new float[2], 2);
        try
        {
            var act = () => NpySource.Load(_images + ".npy");
            act.Should().Throw<InvalidDataException>().WithMessage("*F32*expected uint8*");
            var labels = () => NpySource.Load(_labels + ".npy", _labels + "f.npy");
            labels.Should().Throw<InvalidDataException>().WithMessage("*expected integer labels*");
        }
        finally { File.Delete(_images + ".npy"); File.Delete(_labels + ".npy"); File.Delete(_labels + "f.npy"); }
    }

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
