using System.Text.Json;
using Cedm.Diffusion.Training;
using Cedm.Imaging.Png;
using Cedm.IO;
using Cedm.Tests.Diffusion;
using Cedm.Tensors;
using FluentAssertions;

using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Cli;

/// <summary>`cedm train` → `cedm sample` in-process on a tiny synthetic npy source (8×8 patterns, labels 5/15/25).</summary>
public sealed class TrainSampleCommandTests : CliTest
{
    private string Source() => TrainingTestData.WritePatternsSource(Dir, 4);

    [Fact]
    public void TrainResumeAndSampleWriteTheContractFiles()
    {
        string source = Source(), run = Path.Combine(Dir, "run");
        string[] common = ["--cond", "labels", "--out", run, "--batch", "4", "--log-kimg", "0.004", "--checkpoint-kimg", "0.008", "--p-uncond", "0.1"];
        var (code, output, err) = Run(["train", source, .. common, "--kimg", "0.008", "--json"]);
        code.Should().Be(0, err);
        using (var doc = JsonDocument.Parse(output)) doc.RootElement.GetProperty("step").GetInt64().Should().Be(2);
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))).RootElement;
        config.GetProperty("network").GetProperty("label_dim").GetInt32().Should().Be(3);
        config.GetProperty("training").GetProperty("p_uncond").GetDouble().Should().Be(0.1);
        File.ReadAllText(Path.Combine(run, "label_map.json")).Should().Contain("\"used\"");

        Run(["train", source, .. common, "--kimg", "0.012"]).Code.Should().Be(2, "an existing run needs --resume or --force");
        (code, _, err) = Run(["train", source, "--out", run, "--resume", "--kimg", "0.012"]);
        code.Should().Be(0, err);
        TrainingRun.ReadLog(run).Select(l => l["cur_nimg"]!.GetValue<long>()).Should().Equal(4, 8, 12);

        string samples = Path.Combine(Dir, "s.npy"), grid = Path.Combine(Dir, "g.png");
        (code, output, err) = Run("sample", run, "--n", "2", "--cluster", "all", "--steps", "4", "--out", samples, "--grid", grid, "--guidance", "0.5", "--json");
        code.Should().Be(0, err);
        var images = Npy.Read(samples);
        images.Shape.Should().Equal(6, 8, 8, 1);
        images.DType.Should().Be(DType.U8);
        Npy.Read(Path.Combine(Dir, "s_clusters.npy")).ToInt64().Should().Equal(5, 5, 15, 15, 25, 25);
        var png = PngDecoder.Decode(File.ReadAllBytes(grid));
        png.Height.Should().Be(3 * (8 + 2) + 2, "one row per cluster");
        JsonDocument.Parse(output).RootElement.GetProperty("sampler").GetProperty("nfe").GetDouble().Should().Be(4, "4 steps of the default solver, DPM-Solver++(2M)");

        // A fixed original id, and seeds: seed 1 alone equals the second image of seeds 0-1.
        string one = Path.Combine(Dir, "one.npy"), two = Path.Combine(Dir, "two.npy");
        Run("sample", run, "--seeds", "0-1", "--cluster", "15", "--steps", "4", "--out", two).Code.Should().Be(0);
        Run("sample", run, "--seeds", "1-1", "--cluster", "15", "--steps", "4", "--out", one, "--batch", "1").Code.Should().Be(0);
        Npy.Read(one).As<byte>().Should().Equal(Npy.Read(two).As<byte>()[64..]);
        Npy.Read(Path.Combine(Dir, "one_clusters.npy")).ToInt64().Should().Equal(15);
        // --seed S --n N is --seeds S-(S+N-1).
        string fromSeed = Path.Combine(Dir, "seed.npy");
        Run("sample", run, "--seed", "1", "--n", "1", "--cluster", "15", "--steps", "4", "--out", fromSeed).Code.Should().Be(0);
        Npy.Read(fromSeed).As<byte>().Should().Equal(Npy.Read(one).As<byte>());
        var (both, _, bothErr) = Run("sample", run, "--seed", "1", "--seeds", "0-1", "--out", Path.Combine(Dir, "b.npy"));
        both.Should().Be(2);
        bothErr.Should().Contain("--seed").And.Contain("--seeds");

        // cedm denoise (the interop hook): as σ -> 0, D(x; σ) = c_skip x + c_out F -> x (c_out = σ σ_d / sqrt(σ² + σ_d²)).
        int[] imgShape = Npy.Read(fromSeed).Shape;   // [1, H, W, C]
        int h = imgShape[1], w = imgShape[2], ch = imgShape[3];
        var xs = new float[2 * ch * h * w];
        new Rng(4).FillNormal(xs, 0f, 1f);
        string xPath = Path.Combine(Dir, "x.npy"), dPath = Path.Combine(Dir, "d.npy"), lPath = Path.Combine(Dir, "l.npy");
        Npy.Write(xPath, xs, 2, ch, h, w);
        Npy.Write(lPath, new float[] { 0, 1, 0, 1, 0, 0 }, 2, 3);
        (code, _, err) = Run("denoise", run, "--x", xPath, "--sigma", "0.002", "--labels", lPath, "--out", dPath);
        code.Should().Be(0, err);
        var denoised = Npy.Read(dPath);
        denoised.Shape.Should().Equal(2, ch, h, w);
        denoised.ToFloat32().Zip(xs).Max(t => Math.Abs(t.First - t.Second)).Should().BeLessThan(0.05f);
        (code, _, err) = Run("denoise", run, "--x", xPath, "--sigma", "5", "--labels", lPath, "--out", dPath, "--force");
        code.Should().Be(0, err);
        Npy.Read(dPath).ToFloat32().Zip(xs).Max(t => Math.Abs(t.First - t.Second)).Should().BeGreaterThan(0.5f, "at σ = 5 the skip weight is 0.01: D is the network's estimate, not x");
        Npy.Write(lPath, new float[4], 2, 2);
        (code, _, err) = Run("denoise", run, "--x", xPath, "--sigma", "1", "--labels", lPath, "--out", Path.Combine(Dir, "d2.npy"));
        code.Should().Be(2);
        err.Should().Contain("l.npy").And.Contain("[2, 3]");

        Run("sample", run, "--cluster", "7", "--out", Path.Combine(Dir, "x.npy")).Code.Should().Be(2, "7 is not a label of the run");
        Run("sample", run, "--n", "2", "--steps", "4", "--out", samples).Code.Should().Be(2, "no overwrite without --force");
    }

    [Fact]
    public void UnconditionalTrainingAndSamplingWithThePaddedDefault()
    {
        // 6×6 images: the default pad (1) makes them 8×8 for the 3-level tiny preset.
        var data = TrainingTestData.Patterns(2, side: 6);
        string images = Path.Combine(Dir, "six.npy");
        Npy.Write(images, data.Pixels, data.Count, 6, 6, 1);
        string run = Path.Combine(Dir, "u");
        var (code, _, err) = Run("train", $"npy:{images}", "--out", run, "--batch", "2", "--kimg", "0.002");
        code.Should().Be(0, err);
        RunConfig.Load(run).Height.Should().Be(8);
        string samples = Path.Combine(Dir, "u.npy");
        (code, _, err) = Run("sample", run, "--n", "3", "--steps", "3", "--out", samples);
        code.Should().Be(0, err);
        Npy.Read(samples).Shape.Should().Equal(3, 8, 8, 1);
        Npy.Read(Path.Combine(Dir, "u_clusters.npy")).ToInt64().Should().Equal(-1, -1, -1);
        Run("sample", run, "--guidance", "1", "--out", Path.Combine(Dir, "v.npy")).Code.Should().Be(2);
        Run("train", $"npy:{images}", "--out", Path.Combine(Dir, "w"), "--cond", "labels").Code.Should().Be(2, "no --kimg/--minutes and no labels");
    }
}
