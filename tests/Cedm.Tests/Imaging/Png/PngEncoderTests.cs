using System.Diagnostics;
using Cedm.Imaging.Png;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Imaging.Png;

public class PngEncoderTests(ITestOutputHelper output)
{
    private static byte[] RandomImage(int seed, int width, int height, int channels, bool smooth)
    {
        var rng = new Random(seed);
        var pixels = new byte[width * height * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    pixels[(y * width + x) * channels + c] = smooth ? (byte)(x * 9 + y * 5 + c * 60 + rng.Next(4)) : (byte)rng.Next(256);
        return pixels;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 7, 1)]
    [InlineData(17, 1, 2)]
    [InlineData(13, 11, 3)]
    [InlineData(64, 40, 4)]
    [InlineData(300, 5, 1)]
    public void RoundTripsThroughOurDecoder(int width, int height, int channels)
    {
        foreach (bool smooth in new[] { false, true })
        {
            byte[] pixels = RandomImage(width * 31 + height, width, height, channels, smooth);
            var image = PngDecoder.Decode(PngEncoder.Encode(pixels, width, height, channels));
            (image.Width, image.Height, image.Channels).Should().Be((width, height, channels));
            image.Pixels.Should().Equal(pixels);
        }
    }

    [Fact]
    public void RejectsPixelBufferOfTheWrongSize()
    {
        var act = () => PngEncoder.Encode(new byte[10], 3, 3, 1);
        act.Should().Throw<ArgumentException>().WithMessage("*3x3x1*");
    }

    /// <summary>
    /// Our encoder's files decode with an independent decoder: PIL, through tools/make_png_fixtures.py --verify
    /// (Debian's /usr/bin/python3 with python3-pil; tools/install-deps.sh --python). Skipped when absent.
    /// </summary>
    [Fact]
    public void EncodedFilesDecodeWithPil()
    {
        const string python = "/usr/bin/python3";
        string script = Path.Combine(PngFixtures.RepositoryRoot, "tools", "make_png_fixtures.py");
        if (!File.Exists(python) || !HasPil(python))
        {
            output.WriteLine("skipped: /usr/bin/python3 with numpy and PIL not available");
            return;
        }
        string dir = Directory.CreateTempSubdirectory("cedm-png-verify-").FullName;
        try
        {
            int k = 0;
            foreach (var (w, h, c) in new[] { (13, 11, 1), (13, 11, 2), (13, 11, 3), (13, 11, 4), (1, 1, 3), (257, 3, 4) })
            {
                byte[] pixels = RandomImage(k, w, h, c, smooth: k % 2 == 0);
                File.WriteAllBytes(Path.Combine(dir, $"cedm{k}.png"), PngEncoder.Encode(pixels, w, h, c));
                PngFixtures.WriteExpected(Path.Combine(dir, $"cedm{k}.expected"), w, h, c, pixels);
                k++;
            }
            var (code, text) = RunProcess(python, script, "--verify", dir);
            output.WriteLine(text);
            code.Should().Be(0, text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool HasPil(string python) => RunProcess(python, "-c", "import numpy, PIL").Code == 0;

    private static (int Code, string Text) RunProcess(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}
