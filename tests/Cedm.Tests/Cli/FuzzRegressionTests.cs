using System.IO.Compression;
using Cedm.Cli;
using Cedm.Diffusion.Labels;
using Cedm.IO;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>
/// What the fuzz harness (tools/fuzz) found, kept fixed: each case ended in exit 1 or in an error line that did not
/// name the damaged file (issue 18).
/// </summary>
public sealed class FuzzRegressionTests : CliTest
{
    [Fact]
    public void ACorruptGzipInAnIdxFileNamesTheFile()
    {
        var raw = new MemoryStream();
        using (var gz = new GZipStream(raw, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(new byte[] { 0, 0, 8, 1, 0, 0, 0, 2, 3, 4 });
        var bytes = raw.ToArray();
        bytes[2] = 7;   // gzip compression-method byte: not deflate (8)
        foreach (var name in new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz" }) File.WriteAllBytes(Path.Combine(Dir, name), bytes);
        var act = () => Cedm.Data.IdxReader.ReadUInt8(Path.Combine(Dir, "train-labels-idx1-ubyte.gz"));
        act.Should().Throw<InvalidDataException>().Which.Message.Should().StartWith(Path.Combine(Dir, "train-labels-idx1-ubyte.gz") + ": ");
    }

    [Theory]
    [InlineData("{\"mode\": \"labels\", \"used\": [0, 1], \"counts\": [3")]
    [InlineData("{\"mode\": \"labels\", \"used\": [0, 1], \"counts\": [3, \"x\"]}")]
    [InlineData("{\"mode\": \"labels\", \"used\": 7, \"counts\": [3, 4]}")]
    [InlineData("[]")]
    public void ADamagedLabelMapExitsTwoNamingIt(string text)
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4", "--cond", "labels").Code.Should().Be(0);
        string map = Path.Combine(run, LabelSource.MapFile);
        File.WriteAllText(map, text);
        var (code, _, err) = Run("sample", run, "--out", Path.Combine(Dir, "s.npy"), "--seeds", "0-0", "--steps", "2");
        code.Should().Be(2, text);
        err.Should().StartWith($"error: {map}: ");
    }

    [Fact]
    public void ADamagedClustersJsonExitsTwoNamingIt()
    {
        string feats = Path.Combine(Dir, "f.npy"), labels = Path.Combine(Dir, "l.npy"), dir = Path.Combine(Dir, "c");
        Npy.Write(feats, Enumerable.Range(0, 40).Select(i => (float)(i % 7) + (i % 2) * 10).ToArray(), 20, 2);
        Npy.Write(labels, Enumerable.Range(0, 20).Select(i => (long)(i % 2)).ToArray(), 20);
        Run("cluster", feats, "--k", "2", "--out", dir).Code.Should().Be(0);
        string json = Path.Combine(dir, "clusters.json");
        foreach (var text in new[] { "{\"k\": NaN}", "{\"k\": 0}", "{\"k\": \"two\"}", "{" })
        {
            File.WriteAllText(json, text);
            var (code, _, err) = Run("score", dir, labels);
            code.Should().Be(2, text);
            err.Should().StartWith($"error: {json}: ", text);
        }
    }

    [Fact]
    public void ErrorLinesAreOneLineWithoutTerminalControls()
    {
        CliErrors.Printable("bad \u001b[31mred\u001b[0m name\nsecond line\u202e").Should().Be("bad \\x1b[31mred\\x1b[0m name second line\\u202e");
        string evil = Path.Combine(Dir, "x\u001b]0;pwned\u0007.npy");
        File.WriteAllBytes(evil, [1, 2, 3]);
        var (code, _, err) = Run("cluster", evil, "--k", "2", "--out", Path.Combine(Dir, "o"));
        code.Should().Be(2);
        err.TrimEnd().Split('\n').Should().ContainSingle();
        err.Should().NotContain("\u001b").And.NotContain("\u0007").And.Contain("\\x1b]0;pwned\\x07");
    }

    [Fact]
    public void BadOptionValuesNameTheirFlag()
    {
        string feats = Path.Combine(Dir, "f.npy"), images = Path.Combine(Dir, "i.npy");
        Npy.Write(feats, Enumerable.Range(0, 40).Select(i => (float)(i % 7)).ToArray(), 20, 2);
        Npy.Write(images, new byte[4 * 8 * 8], 4, 8, 8, 1);
        string o = Path.Combine(Dir, "o"), on = Path.Combine(Dir, "o.npy");
        foreach (var (args, flag) in new (string[], string)[]
        {
            (["cluster", feats, "--k", "2", "--out", o, "--method", "nope"], "--method"),
            (["cluster", feats, "--k", "2", "--out", o, "--covariance", "1,2"], "--covariance"),
            (["cluster", feats, "--k", "2", "--out", o, "--n-init", "2000000000"], "--n-init"),
            (["features", "npy:" + images, "--extractor", "nope", "--out", on], "--extractor"),
            (["features", "npy:" + images, "--extractor", "", "--out", on], "--extractor"),
            (["features", "npy:" + images, "--extractor", "pca:2", "--fit-on", "nan", "--out", on], "--fit-on"),
            (["features", "npy:" + images, "--extractor", "pixels", "--model", "", "--out", on], "--model"),
        })
        {
            var (code, _, err) = Run(args);
            code.Should().Be(2, string.Join(' ', args));
            err.TrimEnd().Split('\n').Should().ContainSingle();
            err.Should().StartWith("error: ").And.Contain(flag, string.Join(' ', args)).And.NotContain("\t");
        }
    }

    [Theory]
    [InlineData(1e200, 0, "out of range")]
    [InlineData(1, 0.5, "not symmetric")]
    [InlineData(-1, 0, "negative")]
    public void ImplausibleNpzStatisticsExitTwoNamingTheFile(double diagonal, double asymmetry, string why)
    {
        string path = Path.Combine(Dir, "s.npz");
        new Cedm.Metrics.ReferenceStatistics([0, 0], [diagonal, asymmetry, 0, 1]).Save(path);
        var (code, _, err) = Run("fd", path, path);
        code.Should().Be(2);
        err.Should().StartWith($"error: {path}: ").And.Contain(why);
    }

    [Fact]
    public void DamagedRunConfigAndPcaMetadataExitTwoNamingTheFile()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4").Code.Should().Be(0);
        string config = Path.Combine(run, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"channels\": 1", "\"channels\": 0", StringComparison.Ordinal));
        var (code, _, err) = Run("sample", run, "--out", Path.Combine(Dir, "s.npy"), "--seeds", "0-0", "--steps", "2");
        code.Should().Be(2);
        err.Should().StartWith($"error: {config}: ");

        string images = Path.Combine(Dir, "i.npy"), model = Path.Combine(Dir, "f.pca.safetensors");
        Npy.Write(images, Enumerable.Range(0, 6 * 16).Select(i => (byte)(i * 7)).ToArray(), 6, 4, 4, 1);
        Run("features", "npy:" + images, "--extractor", "pca:2", "--out", Path.Combine(Dir, "f.npy")).Code.Should().Be(0);
        var file = Safetensors.Read(model);
        var meta = file.Metadata.Where(kv => kv.Key != "width").ToDictionary(kv => kv.Key, kv => kv.Value);
        Safetensors.Write(model, file.Tensors.Select(kv => (kv.Key, kv.Value.Shape, kv.Value.Data)), meta);
        (code, _, err) = Run("features", "npy:" + images, "--extractor", "pca:" + model, "--out", Path.Combine(Dir, "g.npy"));
        code.Should().Be(2);
        err.Should().StartWith($"error: {model}: ").And.Contain("width");
    }

    [Fact]
    public void SamplingRefusesGuidanceWithoutAnUnconditionalModelAndHugeCounts()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4", "--cond", "labels").Code.Should().Be(0);
        var (code, _, err) = Run("sample", run, "--out", Path.Combine(Dir, "s.npy"), "--n", "2", "--steps", "2", "--guidance", "2");
        code.Should().Be(2);
        err.Should().Contain("--guidance").And.Contain("--p-uncond");
        (code, _, err) = Run("sample", run, "--out", Path.Combine(Dir, "s.npy"), "--n", "2000000000", "--steps", "2");
        code.Should().Be(2);
        err.Should().Contain("--n");
    }

    [Theory]
    [InlineData("--kimg", "1e400")]
    [InlineData("--kimg", "2000000000")]
    [InlineData("--minutes", "1e400")]
    [InlineData("--kimg", "1,2")] // a thousands separator: .NET would read 12
    public void TrainingLengthsMustBeFiniteAndBounded(string flag, string value)
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4);
        var (code, _, err) = Run("train", source, "--out", Path.Combine(Dir, "run"), "--batch", "4", flag, value);
        code.Should().Be(2, "an unbounded length would train forever");
        err.Should().StartWith($"error: {flag}: ");
    }

    [Theory]
    [InlineData("--batch", "2000000000")]
    [InlineData("--lr-rampup-kimg", "1e400")]
    [InlineData("--ema-kimg", "1e400")]
    [InlineData("--log-kimg", "nan")]
    [InlineData("--dropout", "nan")]
    [InlineData("--gmm-rank", "3")]
    [InlineData("--gmm-temperature", "0.5")]
    public void TrainingOptionErrorsNameTheirFlag(string flag, string value)
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4);
        var (code, _, err) = Run("train", source, "--out", Path.Combine(Dir, "run"), "--kimg", "0.004", flag, value);
        code.Should().Be(2, err);
        err.Should().StartWith($"error: {flag}");
        err.TrimEnd().Split('\n').Should().ContainSingle();
    }

    [Fact]
    public void SamplerOptionErrorsNameTheirFlag()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4").Code.Should().Be(0);
        string output = Path.Combine(Dir, "s.npy");
        foreach (var (flag, value) in new[]
        {
            ("--steps", "2000000000"), ("--steps", "0"), ("--guidance", "nan"), ("--coherence", "2"), ("--ca-guidance", "-1"),
            ("--sigma-min", "0"), ("--sigma-max", "nan"), ("--rho", "1e400"), ("--s-noise", "-1"), ("--batch", "2000000000"),
            ("--coherence", "0,5"), ("--steps", "1,000"), ("--sigma-min", "2000000000"), ("--s-min", "nan"), ("--s-max", "nan"),
            ("--checkpoint", "nope"), ("--checkpoint", ""),
        })
        {
            var (code, _, err) = Run("sample", run, "--out", output, "--n", "2", flag, value);
            code.Should().Be(2, $"{flag} {value}: {err}");
            err.Should().StartWith($"error: {flag}", $"{flag} {value}");
            File.Exists(output).Should().BeFalse();
        }
    }

    [Theory]
    [InlineData("--threshold", "0")]
    [InlineData("--k0", "0")]
    [InlineData("--max-k", "1")]
    [InlineData("--min-per-cluster", "0")]
    [InlineData("--budget-minutes", "1e400")]
    [InlineData("--grid", "-1")]
    [InlineData("--lower-k", "-1")]
    [InlineData("--epochs", "2000000000")]
    public void BoundOptionErrorsNameTheirFlag(string flag, string value)
    {
        string feats = Path.Combine(Dir, "f.npy"), output = Path.Combine(Dir, "b.json");
        Npy.Write(feats, Enumerable.Range(0, 400).Select(i => (float)(i % 13)).ToArray(), 100, 4);
        string[] k0 = flag == "--k0" ? [] : ["--k0", "2"];
        var (code, _, err) = Run(["bound", feats, "--out", output, .. k0, flag, value]);
        code.Should().Be(2, err);
        err.Should().StartWith($"error: {flag}");
        File.Exists(output).Should().BeFalse();
    }
}
