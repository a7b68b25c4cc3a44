using Cedm.Data;
using Cedm.Imaging.Png;
using FluentAssertions;

namespace Cedm.Tests.Data;

public sealed class ImageFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Png(string relative, int width, int height, int channels, byte value)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var pixels = Enumerable.Repeat(value, width * height * channels).ToArray();
        File.WriteAllBytes(path, PngEncoder.Encode(pixels, width, height, channels));
    }

    [Fact]
    public void SubFoldersBecomeLabelsInNameOrder()
    {
        Png("dogs/b.png", 4, 3, 1, 20);
        Png("dogs/a.png", 4, 3, 1, 10);
        Png("cats/x.png", 4, 3, 1, 30);
        Png("cats/deeper/y.png", 4, 3, 1, 40);
        File.WriteAllText(Path.Combine(_dir, "cats", "notes.txt"), "ignored");

        var d = DataSource.Load($"folder:{_dir}");
        (d.Count, d.Height, d.Width, d.Channels).Should().Be((4, 3, 4, 1));
        d.LabelNames.Should().Equal("cats", "dogs");
        d.Labels.Should().Equal(0, 0, 1, 1);
        Enumerable.Range(0, 4).Select(i => d.Image(i)[0]).Should().Equal(40, 30, 10, 20); // ordinal path order: cats/deeper/y < cats/x
    }

    [Fact]
    public void FlatFolderIsUnlabelledAndMixedColourBecomesRgb()
    {
        Png("a.png", 2, 2, 1, 50);
        Png("b.png", 2, 2, 4, 60);
        var d = ImageFolder.Load(_dir);
        d.Labels.Should().BeNull();
        d.Channels.Should().Be(3);
        d.Image(0).ToArray().Should().AllBeEquivalentTo((byte)50);
        d.Image(1).ToArray().Should().AllBeEquivalentTo((byte)60);
    }

    [Fact]
    public void UnreadFormatsAreNamedInTheError()
    {
        Png("a.png", 2, 2, 1, 0);
        File.WriteAllBytes(Path.Combine(_dir, "photo.WEBP"), [0x52, 0x49, 0x46, 0x46]);
        var act = () => ImageFolder.Load(_dir);
        act.Should().Throw<NotSupportedException>().WithMessage("*1 image file(s)*(.webp*photo.WEBP*PNG, JPEG, BMP, GIF and TGA*");
    }

    [Fact]
    public void DifferentSizesNeedAResolution()
    {
        Png("a.png", 4, 4, 1, 100);
        Png("b.png", 8, 6, 1, 100);
        var act = () => ImageFolder.Load(_dir);
        act.Should().Throw<ArgumentException>().WithMessage("*differ in size*resolution*").Which.ParamName.Should().Be("Resolution");

        var d = ImageFolder.Load(_dir, new TransformOptions { Resolution = 4 });
        (d.Height, d.Width).Should().Be((4, 4));
        d.Pixels.Should().AllBeEquivalentTo((byte)100); // resizing a constant image keeps its value
    }

    [Fact]
    public void EmptyOrMixedLayoutsAreClearErrors()
    {
        var act = () => ImageFolder.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*no image files*");
        Png("top.png", 2, 2, 1, 0);
        Png("label/inner.png", 2, 2, 1, 0);
        act.Should().Throw<InvalidDataException>().WithMessage("*both directly in the folder*");
        var missing = () => ImageFolder.Load(Path.Combine(_dir, "nope"));
        missing.Should().Throw<DirectoryNotFoundException>();
    }

    [Fact]
    public void CorruptPngNamesTheFile()
    {
        Png("a.png", 2, 2, 1, 0);
        File.WriteAllBytes(Path.Combine(_dir, "b.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2]);
        var act = () => ImageFolder.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*b.png: not a valid PNG*");
    }
}
