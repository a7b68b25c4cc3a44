using Cedm.Cli.Pipeline;
using Cedm.Diffusion.Training;
using FluentAssertions;

namespace Cedm.Tests.Pipeline;

/// <summary>The train command line shared by `cedm run` (minutes) and `cedm study` (kimg): fresh, or resumed from a checkpoint.</summary>
public sealed class PipelineCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-pipeline-commands-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AFreshTrainingHasTheFullOptionsAndAnInterruptedOneResumesWithTheBudgetLeft()
    {
        string[] fresh = PipelineCommands.Train(_dir, "src", "labels", "tiny", new TrainBudget.Kimg(12), 7, ["--keep", "4"]);
        fresh.Should().Equal("train", "src", "--cond", "labels", "--out", _dir, "--preset", "tiny", "--kimg", "12", "--seed", "7", "--force",
            "--lr-rampup-kimg", "1", "--dropout", "0", "--lr", "2e-3", "--keep", "4");

        // An interrupted run: a checkpoint after 90 s of training.
        Directory.CreateDirectory(Path.Combine(_dir, Checkpoint.Folder));
        string rel = Path.Combine(Checkpoint.Folder, Checkpoint.FileName(4000));
        File.WriteAllBytes(Path.Combine(_dir, rel), [0]);
        Checkpoint.WritePointer(_dir, rel, 4000, 125, 90);
        PipelineCommands.Train(_dir, "src", "labels", "tiny", new TrainBudget.Kimg(12), 7, ["--keep", "4"])
            .Should().Equal("train", "src", "--out", _dir, "--resume", "--kimg", "12");
        PipelineCommands.Train(_dir, "src", "labels", "tiny", new TrainBudget.Minutes(9), 7, [])
            .Should().Equal("train", "src", "--out", _dir, "--resume", "--minutes", "7.5");
    }

    [Fact]
    public void TheBoundSearchStartsAtTheCapWhenTheCapIsBelowItsFirstK()
    {
        PipelineCommands.Bound("f.npy", "b.json", 40, 12000, 5, 0).Should().NotContain("--k0");
        PipelineCommands.Bound("f.npy", "b.json", 4, 100, null, 0).Should().ContainInOrder("--k0", "4").And.NotContain("--epochs");
    }
}
