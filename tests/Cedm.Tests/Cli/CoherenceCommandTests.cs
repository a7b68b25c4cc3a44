using System.Text.Json;
using Cedm.Clustering;
using Cedm.Diffusion.Training;
using Cedm.IO;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>`cedm train --coherence` → `cedm sample --coherence/--ca-guidance` in-process on 12 tiny 8×8 patterns.</summary>
public sealed class CoherenceCommandTests : CliTest
{
    private string Source() => TrainingTestData.WritePatternsSource(Dir, 4);

    /// <summary>A GMM-like folder: image i in cluster i mod 3 with a peak probability falling from 0.95 to 0.4.</summary>
    private string Clusters(bool soft = true)
    {
        const int n = 12;
        var ids = Enumerable.Range(0, n).Select(i => i % 3).ToArray();
        var probs = new float[n * 3];
        var conf = new float[n];
        for (int i = 0; i < n; i++)
        {
            float peak = 0.95f - 0.05f * i;
            for (int k = 0; k < 3; k++) probs[i * 3 + k] = k == ids[i] ? peak : (1 - peak) / 2;
            conf[i] = peak;
        }
        string dir = Path.Combine(Dir, soft ? "gmm" : "kmeans");
        new ClusterAssignment(soft ? "gmm" : "kmeans", 3, ids, conf, soft ? probs : null).Save(dir);
        return dir;
    }

    [Fact]
    public void TrainResumeAndSampleWithCoherence()
    {
        string source = Source(), clusters = Clusters(), run = Path.Combine(Dir, "run");
        string[] common = ["--cond", $"clusters:{clusters}", "--out", run, "--batch", "4", "--log-kimg", "0.004", "--checkpoint-kimg", "0.008"];
        var (code, output, err) = Run(["train", source, .. common, "--coherence", "entropy", "--coherence-bins", "4", "--p-uncond", "0.2", "--kimg", "0.008", "--json"]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("coherence").GetString().Should().Be("entropy");
        var scores = Npy.Read(Path.Combine(run, "coherence.npy")).ToFloat32();
        scores.Should().HaveCount(12).And.OnlyContain(v => v == 0f || v == 1 / 3f || v == 2 / 3f || v == 1f);
        scores[0].Should().Be(1f, "the most peaked row is in the top bin");
        scores[^1].Should().Be(0f, "the flattest row is in the bottom bin");
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))).RootElement;
        config.GetProperty("network").GetProperty("coherence").GetBoolean().Should().BeTrue();
        var coherence = config.GetProperty("coherence");
        coherence.GetProperty("options").GetProperty("source").GetString().Should().Be("entropy");
        coherence.GetProperty("transform").GetProperty("mode").GetString().Should().Be("bin");
        coherence.GetProperty("transform").GetProperty("edges").GetArrayLength().Should().Be(5);
        coherence.GetProperty("basis").GetString().Should().Contain("ln 3");
        coherence.GetProperty("processed").GetProperty("max").GetDouble().Should().Be(1);
        RunConfig.Load(run).Coherence!.Histogram.Sum().Should().Be(12);

        Run("train", source, "--out", run, "--resume", "--kimg", "0.012", "--coherence", "maxprob").Code.Should().Be(2, "the scores of a run cannot change");
        Run("train", source, "--out", run, "--resume", "--kimg", "0.012", "--coherence-bins", "3").Code.Should().Be(2);
        (code, _, err) = Run("train", source, "--out", run, "--resume", "--kimg", "0.012");
        code.Should().Be(0, err);
        TrainingRun.ReadLog(run).Select(l => l["cur_nimg"]!.GetValue<long>()).Should().Equal(4, 8, 12);
        string straight = Path.Combine(Dir, "straight");
        Run(["train", source, "--cond", $"clusters:{clusters}", "--out", straight, "--batch", "4", "--log-kimg", "0.004", "--checkpoint-kimg", "0.008",
            "--coherence", "entropy", "--coherence-bins", "4", "--p-uncond", "0.2", "--kimg", "0.012"]).Code.Should().Be(0);
        var resumed = Checkpoint.LoadEma(Checkpoint.Latest(run)!.Value.Path);
        foreach (var (key, t) in Checkpoint.LoadEma(Checkpoint.Latest(straight)!.Value.Path))
            resumed[key].Data.Should().Equal(t.Data, $"a resumed coherence run equals an uninterrupted one ({key})");

        string samples = Path.Combine(Dir, "s.npy");
        (code, output, err) = Run("sample", run, "--n", "2", "--cluster", "all", "--steps", "3", "--coherence", "0.5", "--ca-guidance", "2", "--ca-low", "0.1", "--out", samples, "--json");
        code.Should().Be(0, err);
        Npy.Read(samples).Shape.Should().Equal(6, 8, 8, 1);
        var info = JsonDocument.Parse(output).RootElement;
        info.GetProperty("coherence").GetDouble().Should().Be(0.5);
        info.GetProperty("sampler").GetProperty("ca_guidance").GetDouble().Should().Be(2);
        info.GetProperty("sampler").GetProperty("ca_low").GetDouble().Should().Be(0.1);
        (code, output, err) = Run("sample", run, "--n", "2", "--steps", "3", "--guidance", "1", "--out", Path.Combine(Dir, "g.npy"), "--json");
        code.Should().Be(0, err + " (plain guidance stays available)");
        JsonDocument.Parse(output).RootElement.GetProperty("coherence").GetDouble().Should().Be(1, "a coherence run samples at c = 1 by default");

        string bad = Path.Combine(Dir, "bad.npy");
        Run("sample", run, "--guidance", "1", "--ca-guidance", "1", "--out", bad).Code.Should().Be(2);
        Run("sample", run, "--ca-low", "0.2", "--out", bad).Code.Should().Be(2, "--ca-low needs --ca-guidance");
        Run("sample", run, "--coherence", "1.5", "--out", bad).Code.Should().Be(2);
        Run("sample", run, "--ca-guidance", "-1", "--out", bad).Code.Should().Be(2);
        File.Exists(bad).Should().BeFalse();
    }

    [Fact]
    public void UsageErrorsAndFileScores()
    {
        string source = Source(), soft = Clusters(), hard = Clusters(soft: false);
        string[] quick = ["--batch", "4", "--kimg", "0.004"];
        (int Code, string Err) Train(params string[] args)
        {
            var (code, _, err) = Run(["train", source, "--out", Path.Combine(Dir, "r" + Guid.NewGuid().ToString("N")), .. quick, .. args]);
            return (code, err);
        }
        Train("--cond", "labels", "--coherence", "entropy").Should().Match<(int Code, string Err)>(r => r.Code == 2 && r.Err.Contains("error: --cond:") && r.Err.Contains("computed from a clustering"), "score kinds need a cluster folder");
        Train("--cond", "none", "--coherence", "maxprob").Should().Match<(int Code, string Err)>(r => r.Code == 2 && r.Err.Contains("conditional model"));
        Train("--cond", $"clusters:{soft}", "--coherence", "margin").Should().Match<(int Code, string Err)>(r => r.Code == 2 && r.Err.Contains("expected maxprob, entropy, confidence or a .npy"));
        Train("--cond", $"clusters:{soft}", "--coherence-bins", "5").Should().Match<(int Code, string Err)>(r => r.Code == 2 && r.Err.Contains("need --coherence"));
        Train("--cond", $"clusters:{soft}", "--coherence", "maxprob", "--coherence-mode", "median").Code.Should().Be(2);
        Train("--cond", $"clusters:{soft}", "--coherence", "maxprob", "--coherence-quantiles", "0.9,0.1").Should().Match<(int Code, string Err)>(r => r.Code == 2 && r.Err.Contains("lo < hi"));
        Train("--cond", $"clusters:{hard}", "--coherence", "entropy").Should().Match<(int Code, string Err)>(r => r.Code == 2 && r.Err.Contains("needs soft probabilities"), "k-means saves no probabilities");
        string shortFile = Path.Combine(Dir, "short.npy");
        Npy.Write(shortFile, new float[5], 5);
        Train("--cond", "labels", "--coherence", shortFile).Should().Match<(int Code, string Err)>(r => r.Code == 2 && r.Err.Contains("5 scores for 12"));

        // A user file with labels and the k-means distance-softmax work; minmax and raw are accepted.
        string file = Path.Combine(Dir, "c.npy");
        Npy.Write(file, Enumerable.Range(0, 12).Select(i => i / 11.0).ToArray(), 12);
        string fileRun = Path.Combine(Dir, "file-run");
        var (code, _, err) = Run(["train", source, "--out", fileRun, .. quick, "--cond", "labels", "--coherence", file, "--coherence-mode", "raw"]);
        code.Should().Be(0, err);
        Npy.Read(Path.Combine(fileRun, "coherence.npy")).ToFloat32()[11].Should().Be(1f);
        Train("--cond", $"clusters:{hard}", "--coherence", "maxprob", "--coherence-mode", "minmax").Code.Should().Be(0);
        string ones = Path.Combine(Dir, "ones.npy");
        Npy.Write(ones, Enumerable.Repeat(1f, 12).ToArray(), 12);
        Train("--cond", "labels", "--coherence", ones).Should().Match<(int Code, string Err)>(r => r.Code == 0 && r.Err.Contains("warning: ") && r.Err.Contains("plain conditioning"),
            "constant scores (every confidence 1) train plainly conditioned, with a warning");

        // Runs without coherence refuse the coherence sampling options.
        string plain = Path.Combine(Dir, "plain");
        Run(["train", source, "--out", plain, .. quick, "--cond", "labels"]).Code.Should().Be(0);
        Run("sample", plain, "--ca-guidance", "1", "--out", Path.Combine(Dir, "x.npy")).Err.Should().Contain("trained with coherence scores");
        Run("sample", plain, "--coherence", "0.5", "--out", Path.Combine(Dir, "y.npy")).Code.Should().Be(2);
        Run("train", "--help").Out.Should().Contain("--coherence-bins").And.Contain("[default: bin]");
        Run("sample", "--help").Out.Should().Contain("--ca-guidance").And.Contain("--ca-low");
    }
}
