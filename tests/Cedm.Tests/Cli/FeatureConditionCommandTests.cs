using System.Text.Json;
using Cedm.Clustering;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.Training;
using Cedm.IO;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>`cedm train --cond features:|gmm:` and `cedm sample` of such runs, on 12 synthetic 8×8 images with 6-D features.</summary>
public sealed class FeatureConditionCommandTests : CliTest
{
    private const int Images = 12, FeatureDim = 6;

    private string Source() => TrainingTestData.WritePatternsSource(Dir, 4);

    /// <summary>6-D features: the pattern's label sets the mean, plus noise; rows in dataset order.</summary>
    private string Features(string name = "feats.npy", int rows = Images, Func<int, int, float>? value = null)
    {
        var data = TrainingTestData.Patterns(4);
        var rng = new Random(1);
        var x = new float[rows * FeatureDim];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < FeatureDim; j++)
                x[i * FeatureDim + j] = value?.Invoke(i, j) ?? (float)((j == data.Labels![i % Images] ? 3 : 0) + rng.NextDouble());
        string path = Path.Combine(Dir, name);
        Npy.Write(path, x, rows, FeatureDim);
        return path;
    }

    private string Clusters()
    {
        var data = TrainingTestData.Patterns(4);
        string dir = Path.Combine(Dir, "clusters");
        var ids = data.Labels!.Select(l => (int)(l / 10)).ToArray();   // labels 5/15/25 → clusters 0/1/2
        var probs = new float[Images * 3];
        for (int i = 0; i < Images; i++) { probs[i * 3 + ids[i]] = 0.8f; probs[i * 3 + (ids[i] + 1) % 3] = 0.2f; }
        new ClusterAssignment("gmm", 3, ids, Enumerable.Repeat(0.8f, Images).ToArray(), probs).Save(dir);
        return dir;
    }

    private static string[] Short(string run) => ["--out", run, "--batch", "4", "--kimg", "0.008", "--checkpoint-kimg", "0.008", "--log-kimg", "0.004"];

    [Fact]
    public void GmmRunTrainsResumesAndRecordsItsMixture()
    {
        string source = Source(), feats = Features(), clusters = Clusters(), run = Path.Combine(Dir, "gmm");
        var (code, output, err) = Run(["train", source, "--cond", $"gmm:{clusters}", "--gmm-features", feats, "--feature-dim", "3", "--gmm-rank", "1",
            "--p-uncond", "0.2", .. Short(run), "--json"]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("feature_dim").GetInt32().Should().Be(3);
        var config = RunConfig.Load(run);
        config.Network.FeatureDim.Should().Be(3);
        config.Network.LabelDim.Should().Be(0);
        config.Features!.Kind.Should().Be("gmm");
        config.Features.Options.Mode.Should().Be("draw");
        config.Features.Responsibilities.Should().Be("soft");
        config.Features.Components.Should().Be(3);
        var (space, mixture) = FeatureConditionConfig.Load(run);
        space.InputDimension.Should().Be(FeatureDim);
        mixture.Rank.Should().Be(1);
        mixture.Used.Should().Equal(0, 1, 2);
        mixture.Weights.Sum().Should().BeApproximately(1, 1e-6);

        (code, _, err) = Run("train", source, "--out", run, "--resume", "--kimg", "0.012");
        code.Should().Be(0, err);
        TrainingRun.ReadLog(run)[^1]["cur_nimg"]!.GetValue<long>().Should().Be(12);
        Run("train", source, "--out", run, "--resume", "--kimg", "0.016", "--gmm-rank", "2").Code.Should().Be(2, "a resumed run keeps its mixture");
    }

    [Fact]
    public void OracleRunConditionsOnEachImagesOwnFeature()
    {
        string source = Source(), feats = Features(), run = Path.Combine(Dir, "oracle");
        var (code, _, err) = Run(["train", source, "--cond", $"features:{feats}", "--feature-dim", "4", .. Short(run)]);
        code.Should().Be(0, err);
        var config = RunConfig.Load(run);
        config.Features!.Kind.Should().Be("features");
        config.Features.Options.Mode.Should().Be("own");
        config.Features.Components.Should().Be(1);
        config.Network.FeatureDim.Should().Be(4);
        Run(["train", source, "--cond", $"features:{feats}", "--gmm-mode", "centroid", .. Short(Path.Combine(Dir, "o2"))]).Code.Should().Be(2);
    }

    [Fact]
    public void BadFeatureInputsAreExit2NamingTheFile()
    {
        string source = Source(), clusters = Clusters();
        string fewer = Features("fewer.npy", rows: 10);
        var (code, _, err) = Run(["train", source, "--cond", $"features:{fewer}", .. Short(Path.Combine(Dir, "a"))]);
        code.Should().Be(2);
        err.Should().Contain("fewer.npy").And.Contain("10 feature rows for 12 images");

        string nan = Features("nan.npy", value: (i, j) => i == 5 && j == 2 ? float.NaN : 1f + i + j);
        (code, _, err) = Run(["train", source, "--cond", $"gmm:{clusters}", "--gmm-features", nan, .. Short(Path.Combine(Dir, "b"))]);
        code.Should().Be(2);
        err.Should().Contain("nan.npy").And.Contain("row 5, column 2");

        string feats = Features();
        (code, _, err) = Run(["train", source, "--cond", $"features:{feats}", "--feature-dim", "9", .. Short(Path.Combine(Dir, "c"))]);
        code.Should().Be(2);
        err.Should().Contain("--feature-dim").And.Contain("feats.npy");

        (code, _, err) = Run(["train", source, "--cond", $"gmm:{clusters}", .. Short(Path.Combine(Dir, "d"))]);
        code.Should().Be(2, "a hand-made cluster folder names no features file");
        err.Should().Contain("--gmm-features");

        (code, _, err) = Run(["train", source, "--cond", "labels", "--gmm-mode", "draw", .. Short(Path.Combine(Dir, "e"))]);
        code.Should().Be(2);
        err.Should().Contain("--cond features:<npy> or gmm:<dir>");
        Run(["train", source, "--cond", $"gmm:{clusters}", "--gmm-features", feats, "--gmm-temperature", "1.5", .. Short(Path.Combine(Dir, "f"))])
            .Err.Should().Contain("--gmm-temperature");
    }
}
