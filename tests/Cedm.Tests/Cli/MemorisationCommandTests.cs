using System.Text.Json;
using Cedm.Imaging.Png;
using Cedm.IO;
using Cedm.Metrics;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>
/// The memorisation check of `cedm eval --train-source`: training images passed as samples must be flagged; fresh
/// images from the same distribution must not. Images are 8x8 gray "blobs" (a bright square at a random place on
/// noise), so nearest-neighbour distances in pixel space are spread like those of real data.
/// </summary>
public sealed class MemorisationCommandTests : CliTest
{
    private string P(string name) => Path.Combine(Dir, name);

    private static byte[] Images(int n, Rng rng)
    {
        var px = new byte[n * 64];
        for (int i = 0; i < n; i++)
        {
            int y0 = (int)(rng.NextDouble() * 5), x0 = (int)(rng.NextDouble() * 5);
            for (int p = 0; p < 64; p++)
            {
                int y = p / 8, x = p % 8;
                bool inside = y >= y0 && y < y0 + 3 && x >= x0 && x < x0 + 3;
                px[i * 64 + p] = (byte)Math.Clamp((inside ? 200 : 50) + 25 * rng.NextNormal(), 0, 255);
            }
        }
        return px;
    }

    [Fact]
    public void TheWorstSamplesAreThePlantedDefects()
    {
        var rng = new Rng(12);
        byte[] test = Images(200, rng), fresh = Images(40, rng);
        for (int i = 0; i < 3; i++)   // samples 10, 20 and 30 become flat grey squares: no blob, nothing like a real image
            Array.Fill(fresh, (byte)(i == 1 ? 255 : 0), (10 + 10 * i) * 64, 64);
        Npy.Write(P("test.npy"), test, 200, 8, 8);
        Npy.Write(P("fresh.npy"), fresh, 40, 8, 8);
        var (code, output, err) = Run("eval", $"npy:{P("test.npy")}", P("fresh.npy"), "--out", P("m.json"), "--evaluator", "pixels", "--no-cache",
            "--kid-subsets", "5", "--kid-subset-size", "20", "--worst", "3", "--json");
        code.Should().Be(0, err);
        var doc = JsonDocument.Parse(output).RootElement;
        doc.GetProperty("worst_samples").EnumerateArray().Select(w => w.GetProperty("index").GetInt32()).Should().BeEquivalentTo([10, 20, 30]);
        doc.GetProperty("worst_samples").EnumerateArray().Should().OnlyContain(w => w.GetProperty("realism").GetDouble() < 1);
        doc.GetProperty("realism_median").GetDouble().Should().BeGreaterThan(doc.GetProperty("worst_samples")[2].GetProperty("realism").GetDouble());
        doc.GetProperty("realism_below_one").GetDouble().Should().BeInRange(3 / 40.0, 1);
        var png = PngDecoder.Decode(File.ReadAllBytes(P("m.worst.png")));
        png.Width.Should().BeGreaterThanOrEqualTo(3 * 16, "three 8x8 samples at twice their size in a row");
        png.Height.Should().BeLessThan(2 * 16, "one row");
        Run("eval", $"npy:{P("test.npy")}", P("fresh.npy"), "--out", P("m2.json"), "--worst", "-1").Code.Should().Be(2);
    }

    [Fact]
    public void TrainingImagesAsSamplesAreFlaggedAndFreshImagesAreNot()
    {
        var rng = new Rng(11);
        byte[] train = Images(300, rng), test = Images(200, rng), fresh = Images(150, rng);
        Npy.Write(P("train.npy"), train, 300, 8, 8);
        Npy.Write(P("test.npy"), test, 200, 8, 8);
        Npy.Write(P("fresh.npy"), fresh, 150, 8, 8);
        Npy.Write(P("copies.npy"), train[..(150 * 64)], 150, 8, 8);
        string[] common = ["--evaluator", "pixels", "--train-source", $"npy:{P("train.npy")}", "--kid-subsets", "5", "--kid-subset-size", "50", "--no-cache", "--json"];

        var (code, output, err) = Run(["eval", $"npy:{P("test.npy")}", P("fresh.npy"), "--out", P("fresh.json"), .. common]);
        code.Should().Be(0, err);
        var novel = JsonDocument.Parse(output).RootElement;
        novel.GetProperty("memorisation_share").GetDouble().Should().BeLessThan(0.10, "fresh images are as far from the training set as held-out ones");
        novel.GetProperty("memorisation_flagged").GetBoolean().Should().BeFalse();
        novel.GetProperty("memorisation_real_duplicates").GetInt32().Should().Be(0);

        (code, output, err) = Run(["eval", $"npy:{P("test.npy")}", P("copies.npy"), "--out", P("copies.json"), .. common]);
        code.Should().Be(0, err);
        var copies = JsonDocument.Parse(output).RootElement;
        copies.GetProperty("memorisation_share").GetDouble().Should().Be(1.0, "every copy is at distance 0 from its original");
        copies.GetProperty("memorisation_flagged").GetBoolean().Should().BeTrue();
        copies.GetProperty("memorisation_nn_median_samples").GetDouble().Should().BeLessThan(1e-3, "0 up to the round-off of |a|^2 + |b|^2 - 2ab");
        copies.GetProperty("memorisation_threshold").GetDouble().Should().BeGreaterThan(0);

        // The grid: 16 closest samples above their nearest training images; for copies the two rows are equal.
        var grid = PngDecoder.DecodeFile(copies.GetProperty("memorisation_grid").GetString()!);
        grid.Should().NotBeNull();
        (grid.Height, grid.Width).Should().Be((2 * (16 + 2) + 2, 16 * (16 + 2) + 2));
        int rowStride = grid.Width;
        for (int y = 2; y < 18; y++)
            for (int x = 2; x < grid.Width - 2; x++)
                grid.Pixels[y * rowStride + x].Should().Be(grid.Pixels[(y + 18) * rowStride + x]);
    }

    [Fact]
    public void ShareIsTheFractionBelowTheHeldOutPercentile()
    {
        // 1-d features: training at 0; held-out at 1..100 (5th percentile 5.95); samples at 0.5, 3, 7, 50.
        float[] train = [0f];
        float[] real = Enumerable.Range(1, 100).Select(i => (float)i).ToArray();
        float[] samples = [0.5f, 3f, 7f, 50f];
        var m = Memorisation.Compute(train, 1, samples, 4, real, 100, 1);
        m.Threshold.Should().BeApproximately(5.95, 1e-12);
        m.Share.Should().Be(0.5);
        m.Flagged.Should().BeTrue("0.5 >= 2 x 0.05");
        m.SampleNearest.Should().Equal(0, 0, 0, 0);
        m.RealMedian.Should().BeApproximately(50.5, 1e-12);
    }
}
