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

    /// <summary>Features whose spectrum is flat (already whitened, like pca:D) and d &lt; D: training warns that the d directions kept are arbitrary.</summary>
    [Fact]
    public void WarnsWhenTheFeaturesAreAlreadyWhitened()
    {
        string source = Source();
        // cos/sin of 1, 2, 3 turns over the 12 images: zero-mean, orthogonal columns of equal variance.
        string flat = Features("flat.npy", value: (i, j) => (float)((j % 2 == 0 ? Math.Cos(2 * Math.PI * (j / 2 + 1) * i / Images) : Math.Sin(2 * Math.PI * (j / 2 + 1) * i / Images))));
        var (code, _, err) = Run(["train", source, "--cond", $"features:{flat}", "--feature-dim", "3", .. Short(Path.Combine(Dir, "flat"))]);
        code.Should().Be(0, err);
        err.Should().Contain("looks whitened").And.Contain("--feature-dim 6");
        (code, _, err) = Run(["train", source, "--cond", $"features:{flat}", "--feature-dim", "6", .. Short(Path.Combine(Dir, "all"))]);
        code.Should().Be(0, err);
        err.Should().NotContain("looks whitened", "d = D keeps every direction");
        (code, _, err) = Run(["train", source, "--cond", $"features:{Features()}", "--feature-dim", "3", .. Short(Path.Combine(Dir, "shaped"))]);
        code.Should().Be(0, err);
        err.Should().NotContain("looks whitened", "these features have a few dominant directions");
    }

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

/// <summary>`cedm sample` of feature-conditioned runs: component choice, temperature, interpolation, given features.</summary>
public sealed class FeatureConditionSampleTests : CliTest
{
    [Fact]
    public void SamplingChoosesComponentsInterpolatesAndTakesGivenFeatures()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4);
        var data = TrainingTestData.Patterns(4);
        var rng = new Random(1);
        var x = new float[12 * 6];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((i % 6 == data.Labels![i / 6] / 10 ? 3 : 0) + rng.NextDouble());
        string feats = Path.Combine(Dir, "f.npy");
        Npy.Write(feats, x, 12, 6);
        string clusters = Path.Combine(Dir, "c");
        new ClusterAssignment("kmeans", 3, data.Labels!.Select(l => (int)(l / 10)).ToArray(), Enumerable.Repeat(1f, 12).ToArray()).Save(clusters);
        string run = Path.Combine(Dir, "run");
        var (code, _, err) = Run("train", source, "--cond", $"gmm:{clusters}", "--gmm-features", feats, "--feature-dim", "3", "--gmm-mode", "centroid",
            "--out", run, "--batch", "4", "--kimg", "0.004", "--p-uncond", "0.2");
        code.Should().Be(0, err);

        string all = Path.Combine(Dir, "all.npy");
        string output;
        (code, output, err) = Run("sample", run, "--n", "2", "--cluster", "all", "--steps", "3", "--out", all, "--temperature", "0.5", "--guidance", "1", "--json");
        code.Should().Be(0, err);
        Npy.Read(all).Shape.Should().Equal(6, 8, 8, 1);
        Npy.Read(Path.Combine(Dir, "all_clusters.npy")).ToInt64().Should().Equal(0, 0, 1, 1, 2, 2);
        var record = JsonDocument.Parse(output).RootElement;
        record.GetProperty("temperature").GetDouble().Should().Be(0.5);
        record.GetProperty("feature_dim").GetInt32().Should().Be(3);
        record.GetProperty("label_mode").GetString().Should().Be("gmm");

        // Interpolation at t = 0 is the draw of cluster a with the same seed; t = 1 that of b.
        string fixedA = Path.Combine(Dir, "a.npy"), fixedB = Path.Combine(Dir, "b.npy"), t0 = Path.Combine(Dir, "t0.npy"), t1 = Path.Combine(Dir, "t1.npy");
        Run("sample", run, "--n", "2", "--cluster", "1", "--steps", "3", "--out", fixedA).Code.Should().Be(0);
        Run("sample", run, "--n", "2", "--cluster", "2", "--steps", "3", "--out", fixedB).Code.Should().Be(0);
        Run("sample", run, "--n", "2", "--interpolate", "1,2,0", "--steps", "3", "--out", t0).Code.Should().Be(0);
        Run("sample", run, "--n", "2", "--interpolate", "1,2,1", "--steps", "3", "--out", t1).Code.Should().Be(0);
        Npy.Read(t0).As<byte>().ToArray().Should().Equal(Npy.Read(fixedA).As<byte>().ToArray());
        Npy.Read(t1).As<byte>().ToArray().Should().Equal(Npy.Read(fixedB).As<byte>().ToArray());

        // Given features (look-alikes): ids −1; the same rows give the same images.
        string given = Path.Combine(Dir, "g.npy");
        (code, _, err) = Run("sample", run, "--n", "3", "--features", feats, "--steps", "3", "--out", given);
        code.Should().Be(0, err);
        Npy.Read(Path.Combine(Dir, "g_clusters.npy")).ToInt64().Should().Equal(-1, -1, -1);

        // Bad inputs: exit 2, naming the file or the flag.
        string wide = Path.Combine(Dir, "wide.npy");
        Npy.Write(wide, new float[3 * 5], 3, 5);
        (code, _, err) = Run("sample", run, "--n", "3", "--features", wide, "--steps", "3", "--out", Path.Combine(Dir, "w.npy"));
        code.Should().Be(2);
        err.Should().Contain("wide.npy").And.Contain("5 feature dimensions");
        (code, _, err) = Run("sample", run, "--n", "20", "--features", feats, "--steps", "3", "--out", Path.Combine(Dir, "m.npy"));
        code.Should().Be(2);
        err.Should().Contain("f.npy").And.Contain("12 feature rows for 20 images");
        Run("sample", run, "--interpolate", "1,7,0.5", "--out", Path.Combine(Dir, "i.npy")).Err.Should().Contain("7: not a component");
        Run("sample", run, "--interpolate", "1,2", "--out", Path.Combine(Dir, "j.npy")).Err.Should().Contain("--interpolate");
        Run("sample", run, "--temperature", "1.5", "--out", Path.Combine(Dir, "k.npy")).Err.Should().Contain("--temperature");
    }

    [Fact]
    public void LabelRunsRefuseFeatureFlags()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "labels");
        Run("train", source, "--cond", "labels", "--out", run, "--batch", "4", "--kimg", "0.004").Code.Should().Be(0);
        var (code, _, err) = Run("sample", run, "--temperature", "0.5", "--steps", "3", "--out", Path.Combine(Dir, "s.npy"));
        code.Should().Be(2);
        err.Should().Contain("--temperature").And.Contain("not trained on a feature condition");
    }
}

/// <summary>`cedm classifier` (NGMG / CE) and `cedm sample --classifier` guidance.</summary>
public sealed class ClassifierCommandTests : CliTest
{
    [Fact]
    public void TrainsAClassifierAndGuidesSamplingWithIt()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4);
        var data = TrainingTestData.Patterns(4);
        var rng = new Random(1);
        var x = new float[12 * 6];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((i % 6 == data.Labels![i / 6] / 10 ? 3 : 0) + rng.NextDouble());
        string feats = Path.Combine(Dir, "f.npy");
        Npy.Write(feats, x, 12, 6);
        string clusters = Path.Combine(Dir, "c");
        new ClusterAssignment("kmeans", 3, data.Labels!.Select(l => (int)(l / 10)).ToArray(), Enumerable.Repeat(1f, 12).ToArray()).Save(clusters);
        string run = Path.Combine(Dir, "run"), labelRun = Path.Combine(Dir, "labels");
        Run("train", source, "--cond", $"gmm:{clusters}", "--gmm-features", feats, "--feature-dim", "3", "--out", run, "--batch", "4", "--kimg", "0.004").Code.Should().Be(0);

        string clf = Path.Combine(Dir, "clf.safetensors");
        var (code, output, err) = Run("classifier", run, "--objective", "ngmg", "--steps", "5", "--batch", "8", "--width", "4", "--out", clf, "--json");
        code.Should().Be(0, err);
        var doc = JsonDocument.Parse(output).RootElement;
        doc.GetProperty("k").GetInt32().Should().Be(3);
        doc.GetProperty("accuracy").EnumerateObject().Should().HaveCount(5);

        string plain = Path.Combine(Dir, "p.npy"), guided = Path.Combine(Dir, "g.npy");
        Run("sample", run, "--n", "2", "--cluster", "1", "--steps", "3", "--out", plain).Code.Should().Be(0);
        (code, _, err) = Run("sample", run, "--n", "2", "--cluster", "1", "--steps", "3", "--out", guided, "--classifier", clf, "--classifier-guidance", "50");
        code.Should().Be(0, err);
        Npy.Read(guided).As<byte>().ToArray().Should().NotEqual(Npy.Read(plain).As<byte>().ToArray(), "guidance moves the samples");
        var guidedRecord = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "g.json"))).RootElement;
        guidedRecord.GetProperty("classifier").GetString().Should().Be(Path.GetFullPath(clf));
        guidedRecord.GetProperty("classifier_guidance").GetDouble().Should().Be(50);
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "p.json"))).RootElement.GetProperty("classifier").ValueKind.Should().Be(JsonValueKind.Null);

        Run("sample", run, "--classifier", clf, "--out", Path.Combine(Dir, "x.npy")).Err.Should().Contain("--classifier-guidance");
        Run("classifier", run, "--out", clf).Code.Should().Be(2, "no overwrite without --force");
        Run("train", source, "--cond", "labels", "--out", labelRun, "--batch", "4", "--kimg", "0.004").Code.Should().Be(0);
        (code, _, err) = Run("classifier", labelRun, "--objective", "ngmg", "--out", Path.Combine(Dir, "l.safetensors"));
        code.Should().Be(2);
        err.Should().Contain("--objective").And.Contain("features:/gmm:");
        (code, _, err) = Run("sample", labelRun, "--classifier", clf, "--classifier-guidance", "1", "--out", Path.Combine(Dir, "y.npy"));
        code.Should().Be(2);
        err.Should().Contain("clf.safetensors");
    }

    /// <summary>`--eval-source` measures the classifier on held-out images: a gmm run's classes from their features, a label run's from their labels.</summary>
    [Fact]
    public void MeasuresAClassifierOnHeldOutImages()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4);
        var data = TrainingTestData.Patterns(4);
        var rng = new Random(1);
        var x = new float[12 * 6];
        // Class means 1 apart under unit-wide noise: some images sit between two components.
        for (int i = 0; i < x.Length; i++) x[i] = (float)((i % 6 == data.Labels![i / 6] / 10 ? 1 : 0) + 2 * rng.NextDouble());
        string feats = Path.Combine(Dir, "f.npy"), shortFeats = Path.Combine(Dir, "short.npy");
        Npy.Write(feats, x, 12, 6);
        Npy.Write(shortFeats, x[..60], 10, 6);
        string clusters = Path.Combine(Dir, "c");
        new ClusterAssignment("kmeans", 3, data.Labels!.Select(l => (int)(l / 10)).ToArray(), Enumerable.Repeat(1f, 12).ToArray()).Save(clusters);
        string run = Path.Combine(Dir, "run"), labelRun = Path.Combine(Dir, "labels"), clusterRun = Path.Combine(Dir, "clusters");
        Run("train", source, "--cond", $"gmm:{clusters}", "--gmm-features", feats, "--feature-dim", "3", "--out", run, "--batch", "4", "--kimg", "0.004").Code.Should().Be(0);
        string[] small = ["--steps", "5", "--batch", "8", "--width", "4"];

        var (code, output, err) = Run(["classifier", run, .. small, "--out", Path.Combine(Dir, "a.safetensors"), "--eval-source", source, "--eval-features", feats, "--json"]);
        code.Should().Be(0, err);
        var held = JsonDocument.Parse(output).RootElement.GetProperty("held_out");
        held.GetProperty("count").GetInt32().Should().Be(12);
        held.GetProperty("accuracy").EnumerateObject().Select(p => p.Name).Should().Equal("0.1", "0.5", "1", "2", "5");
        foreach (var p in held.GetProperty("accuracy").EnumerateObject()) p.Value.GetDouble().Should().BeInRange(0, 1);
        held.GetProperty("grad_norm").EnumerateObject().Should().OnlyContain(p => p.Value.GetDouble() > 0);
        // The overall mean is the count-weighted mean of the two subsets (an empty subset is null).
        int over = held.GetProperty("overlap_count").GetInt32();
        over.Should().BeInRange(1, 11, "the features' clusters overlap for some images only");
        double Part(string key, string sigma) => held.GetProperty(key).GetProperty(sigma).GetDouble();
        foreach (var sigma in new[] { "0.1", "2" })
            ((over * Part("grad_norm_overlap", sigma) + (12 - over) * Part("grad_norm_separated", sigma)) / 12)
                .Should().BeApproximately(Part("grad_norm", sigma), 1e-9);
        (code, output, err) = Run(["classifier", run, .. small, "--out", Path.Combine(Dir, "a2.safetensors"), "--eval-source", source, "--eval-features", feats, "--overlap-below", "0.5", "--json"]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("held_out").GetProperty("overlap_count").GetInt32().Should().BeLessThan(over, "a lower threshold flags fewer images");
        Run(["classifier", run, .. small, "--out", Path.Combine(Dir, "a3.safetensors"), "--eval-source", source, "--eval-features", feats, "--overlap-below", "0"]).Code.Should().Be(2);

        (code, output, err) = Run(["classifier", run, .. small, "--out", Path.Combine(Dir, "b.safetensors"), "--eval-source", source, "--eval-features", feats]);
        code.Should().Be(0, err);
        output.Should().Contain("held out").And.Contain("|grad_x L|");

        (code, _, err) = Run(["classifier", run, .. small, "--out", Path.Combine(Dir, "c.safetensors"), "--eval-source", source, "--eval-features", shortFeats]);
        code.Should().Be(2);
        err.Should().Contain("short.npy").And.Contain("10 feature rows");
        File.Exists(Path.Combine(Dir, "c.safetensors")).Should().BeFalse("checked before training");
        (code, _, err) = Run(["classifier", run, .. small, "--out", Path.Combine(Dir, "d.safetensors"), "--eval-source", source]);
        code.Should().Be(2);
        err.Should().Contain("--eval-features");
        (code, _, err) = Run(["classifier", run, .. small, "--out", Path.Combine(Dir, "e.safetensors"), "--eval-features", feats]);
        code.Should().Be(2);
        err.Should().Contain("--eval-source");

        Run("train", source, "--cond", "labels", "--out", labelRun, "--batch", "4", "--kimg", "0.004").Code.Should().Be(0);
        (code, output, err) = Run(["classifier", labelRun, .. small, "--objective", "ce", "--out", Path.Combine(Dir, "l.safetensors"), "--eval-source", source, "--json"]);
        code.Should().Be(0, err);
        held = JsonDocument.Parse(output).RootElement.GetProperty("held_out");
        held.GetProperty("overlap_count").GetInt32().Should().Be(0);
        held.GetProperty("grad_norm").EnumerateObject().Should().OnlyContain(p => p.Value.GetDouble() > 0);

        Run("train", source, "--cond", $"clusters:{clusters}", "--out", clusterRun, "--batch", "4", "--kimg", "0.004").Code.Should().Be(0);
        (code, _, err) = Run(["classifier", clusterRun, .. small, "--objective", "ce", "--out", Path.Combine(Dir, "k.safetensors"), "--eval-source", source]);
        code.Should().Be(2);
        err.Should().Contain("--eval-source").And.Contain("clusters:");
    }
}