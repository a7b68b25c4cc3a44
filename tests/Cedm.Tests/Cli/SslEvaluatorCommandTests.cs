using System.Text.Json.Nodes;
using Cedm.IO;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>`cedm features --extractor ssl` (train, save the encoder, reuse it) and `cedm evaluator train` usage.</summary>
public sealed class SslEvaluatorCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-ssl-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cedm.Cli.Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string Images(int n)
    {
        var rng = new Rng(1);
        var px = new byte[n * 64];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)Math.Clamp(((i / 64) % 2 == 0 ? 60 : 180) + 40 * rng.NextNormal(), 0, 255);
        Npy.Write(P("x.npy"), px, n, 8, 8);
        return $"npy:{P("x.npy")}";
    }

    [Fact]
    public void SslTrainsSavesTheEncoderBesideTheFeaturesAndReusesIt()
    {
        string src = Images(24);
        var (code, output, err) = Run("features", src, "--extractor", "ssl", "--quick", "--out", P("f.npy"), "--json");
        code.Should().Be(0, err);
        File.Exists(P("f.ssl.safetensors")).Should().BeTrue();
        var info = JsonNode.Parse(output)!.AsObject();
        info["resolved"]!.GetValue<string>().Should().Be($"ssl:{P("f.ssl.safetensors")}");
        info["ssl_training"]!["steps"]!.GetValue<int>().Should().BeInRange(1, 20);
        info["d"]!.GetValue<int>().Should().Be(128);

        // Without --force the encoder file is protected too.
        Run("features", src, "--extractor", "ssl", "--quick", "--out", P("f.npy")).Code.Should().Be(2);

        (code, _, err) = Run("features", src, "--extractor", $"ssl:{P("f.ssl.safetensors")}", "--out", P("g.npy"));
        code.Should().Be(0, err);
        Npy.Read(P("g.npy")).ToFloat32().Should().Equal(Npy.Read(P("f.npy")).ToFloat32());
        File.Exists(P("g.ssl.safetensors")).Should().BeFalse("a reused encoder is not copied");
    }

    [Fact]
    public void EvalWithAFreshSslEncoderPutsSamplesThroughTheSameNetwork()
    {
        string real = Images(24);
        File.Copy(P("x.npy"), P("s.npy"));
        // --no-cache: the trained encoder goes to a temporary file (the cached path mirrors pca, tested in FeaturesEvalCommandTests).
        string[] args = ["eval", real, P("s.npy"), "--out", P("m.json"), "--evaluator", "ssl:quick", "--kid-subset-size", "10", "--prdc-k", "2", "--prdc-max", "24", "--no-cache", "--json"];
        var (code, output, err) = Run(args);
        code.Should().Be(0, err);
        var m = JsonNode.Parse(output)!.AsObject();
        m["evaluator_resolved"]!.GetValue<string>().Should().StartWith("ssl:").And.EndWith(".safetensors");
        // The samples are the real images themselves: identical features, FD zero up to rounding.
        m["fd"]!.GetValue<double>().Should().BeApproximately(0, 1e-3);
    }

    [Fact]
    public void EvaluatorTrainRejectsOtherSourcesAndFileNames()
    {
        Run("evaluator", "train", "cifar10:/nowhere", "--out", P("e.safetensors")).Code.Should().Be(2);
        Run("evaluator", "train", "fashion-mnist", "--out", P("e.bin")).Code.Should().Be(2);
        Run("evaluator", "train", "fashion-mnist", "--out", P("e.safetensors"), "--epochs", "0").Code.Should().Be(2);
        var (code, output, _) = Run("evaluator", "train", "--help");
        code.Should().Be(0);
        output.Should().Contain("--epochs").And.Contain("--seed");
    }
}
