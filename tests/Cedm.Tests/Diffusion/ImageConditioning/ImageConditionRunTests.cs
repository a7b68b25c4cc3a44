using System.Text.Json.Nodes;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using Cedm.Stages;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.ImageConditioning;

/// <summary>
/// An image-conditioned run through the stages (related-seeds A′.1): TrainStage records the source's description in
/// config.json and trains with it; resuming and sampling need a source handed in again; SampleStage's rows are leaves.
/// </summary>
public sealed class ImageConditionRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-imgcond-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ARunRecordsItsConditionResumesAndSamplesOneRowPerLeaf()
    {
        string source = TrainingTestData.WritePatternsSource(_dir, perLabel: 4);
        var data = TrainingTestData.Patterns(4);   // what the npy source holds
        string run = Path.Combine(_dir, "run");
        var training = TrainingTestData.Options(kimg: 0.016) with { Preset = "tiny" };
        using (var session = TrainStage.Create(new TrainRequest { Source = source, Out = run, Training = training, ImageConditions = new DatasetImageSource(data) }))
            session.Train().Summary.Step.Should().Be(2);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunConfig.FileName)))!;
        config["network"]!["condition_channels"]!.GetValue<int>().Should().Be(1);
        config["network"]!["label_dim"]!.GetValue<int>().Should().Be(3, "the leaves condition the net as one-hot labels");
        config["image_condition"]!["kind"]!.GetValue<string>().Should().Be("test-dataset");
        config["image_condition"]!["leaf_count"]!.GetValue<int>().Should().Be(3);

        FluentActions.Invoking(() => TrainStage.Resume(new ResumeRequest { Out = run, Kimg = 0.032 }))
            .Should().Throw<SettingException>().Where(e => e.Setting == "ImageConditions").WithMessage("*'test-dataset' images*");
        using (var resumed = TrainStage.Resume(new ResumeRequest { Out = run, Kimg = 0.032, ImageConditions = new DatasetImageSource(data) }))
            resumed.Train().Summary.Step.Should().Be(4);

        var generator = Generator.Load(run);
        generator.ImageConditioned.Should().BeTrue();
        generator.Net.NamedParameters().Single(p => p.Path == "model.enc.8x8_conv.weight").Tensor.ShapeArray().Should().Equal(32, 2, 3, 3);

        string samples = Path.Combine(_dir, "s.npy");
        SampleRequest Request(string cluster) => new()
        {
            Run = run, Seeds = [1, 2], Cluster = cluster, Sampler = new SamplerOptions { Steps = 2 }, Out = samples, Force = true,
            ImageConditions = new PatternSampler(),
        };
        var (set, record) = SampleStage.Run(Request("all"));
        set.Rows.Should().Be(3);
        set.OriginalIds.Should().Equal(0, 0, 1, 1, 2, 2);
        set.Seeds.Should().Equal(1, 2, 1, 2, 1, 2);
        record.LabelMode.Should().Be("test-dataset");
        record.LabelDim.Should().Be(3);
        record.ClusterCounts.Should().Equal(new Dictionary<string, int> { ["0"] = 2, ["1"] = 2, ["2"] = 2 });
        SampleStage.Run(Request("1")).Set.OriginalIds.Should().Equal(1, 1);
        SampleStage.Run(Request("p")).Set.OriginalIds.Should().OnlyContain(id => id >= 0 && id < 3);

        FluentActions.Invoking(() => SampleStage.Run(Request("p") with { ImageConditions = null }))
            .Should().Throw<SettingException>().Where(e => e.Setting == "ImageConditions").WithMessage("*hand in the condition sampler*");
        FluentActions.Invoking(() => SampleStage.Run(Request("p") with { ImageConditions = new PatternSampler(leafCount: 4) }))
            .Should().Throw<SettingException>().Where(e => e.Setting == "ImageConditions").WithMessage("*3 leaves; the sampler handed in has 1 and 4*");
        FluentActions.Invoking(() => SampleStage.Run(Request("3")))
            .Should().Throw<SettingException>().Where(e => e.Setting == "Cluster").WithMessage("*not a leaf of this run*0..2*");
        FluentActions.Invoking(() => SampleStage.Run(Request("uniform")))
            .Should().Throw<SettingException>().Where(e => e.Setting == "Cluster");
        FluentActions.Invoking(() => SampleStage.Run(Request("p") with { Sampler = new SamplerOptions { Steps = 2, Guidance = 1 } }))
            .Should().Throw<SettingException>().Where(e => e.Setting == "Guidance").WithMessage("*--p-uncond*");
    }

    [Fact]
    public void ARunWithoutAConditionImageRefusesASource()
    {
        string source = TrainingTestData.WritePatternsSource(_dir, perLabel: 2);
        string run = Path.Combine(_dir, "plain");
        using (var session = TrainStage.Create(new TrainRequest { Source = source, Out = run, Training = TrainingTestData.Options(kimg: 0.008) with { Preset = "tiny" } }))
            session.Train();
        File.ReadAllText(Path.Combine(run, RunConfig.FileName)).Should().Contain("\"condition_channels\": 0").And.NotContain("image_condition");
        FluentActions.Invoking(() => SampleStage.Run(new SampleRequest { Run = run, Seeds = [1], Out = Path.Combine(_dir, "s.npy"), ImageConditions = new PatternSampler() }))
            .Should().Throw<SettingException>().Where(e => e.Setting == "ImageConditions").WithMessage("*without a condition image*");
        FluentActions.Invoking(() => TrainStage.Resume(new ResumeRequest { Out = run, Kimg = 0.016, ImageConditions = new DatasetImageSource(TrainingTestData.Patterns(2)) }))
            .Should().Throw<SettingException>().Where(e => e.Setting == "ImageConditions");
        FluentActions.Invoking(() => TrainStage.Create(new TrainRequest
        {
            Source = source, Cond = "labels", Out = Path.Combine(_dir, "both"), Training = TrainingTestData.Options(kimg: 0.008),
            ImageConditions = new DatasetImageSource(TrainingTestData.Patterns(2)),
        })).Should().Throw<SettingException>().Where(e => e.Setting == "Cond");
    }
}
