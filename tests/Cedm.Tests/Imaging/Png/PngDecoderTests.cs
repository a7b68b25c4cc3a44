using Cedm.Imaging.Png;
using FluentAssertions;

namespace Cedm.Tests.Imaging.Png;

/// <summary>
/// Decodes files written by an independent encoder (PIL, or the small writer in tools/make_png_fixtures.py,
/// each read back by PIL there) for every colour type and bit depth, and compares every sample.
/// </summary>
public class PngDecoderTests
{
    public static TheoryData<string> Fixtures => new(PngFixtures.Names);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void DecodesFixtureToTheExpectedSamples(string name)
    {
        var image = PngDecoder.DecodeFile(Path.Combine(PngFixtures.Folder, name + ".png"));
        var e = PngFixtures.ReadExpected(Path.Combine(PngFixtures.Folder, name + ".expected"));

        (image.Width, image.Height, image.Channels).Should().Be((e.Width, e.Height, e.Channels));
        if (e.Depth == 16)
        {
            image.Pixels16.Should().NotBeNull();
            image.Pixels16!.Should().Equal(e.Samples);
            image.Pixels.Should().Equal(e.Samples.Select(v => (byte)Math.Round(v / 257.0)));
        }
        else
        {
            image.Pixels16.Should().BeNull();
            image.Pixels.Select(b => (ushort)b).Should().Equal(e.Samples);
        }
    }

    [Fact]
    public void FixturesCoverEveryColourTypeBitDepthAndInterlace()
    {
        var seen = new HashSet<(int ColorType, int Depth, int Interlace)>();
        foreach (string name in PngFixtures.Names)
        {
            byte[] f = File.ReadAllBytes(Path.Combine(PngFixtures.Folder, name + ".png"));
            seen.Add((f[25], f[24], f[28]));
        }
        var required = new[] { (0, 1, 0), (0, 2, 0), (0, 8, 0), (0, 16, 0), (2, 8, 0), (2, 16, 0), (3, 4, 0), (3, 8, 0), (4, 8, 0), (4, 16, 0), (6, 8, 0) };
        seen.Should().Contain(required);
        seen.Where(s => s.Interlace == 1).Select(s => s.ColorType).Should().Contain([0, 2, 3, 6]);
    }
}
