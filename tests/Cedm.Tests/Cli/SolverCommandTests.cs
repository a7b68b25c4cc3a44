using System.Text.Json;
using Cedm.Diffusion.Sampling;
using Cedm.IO;
using Cedm.Pipeline;
using Cedm.Pipeline.Study;
using Cedm.Stages;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>`--solver heun|dpm2m` of `cedm sample`, `cedm run` and `cedm study`: parsing, the samples' record, errors.</summary>
public sealed class SolverCommandTests : CliTest
{
    [Theory]
    [InlineData("sample", "run-folder", "--out", "x.npy")]
    [InlineData("run", "--out", "r")]
    [InlineData("study", "--out", "s")]
    public void AnUnknownSolverExitsTwoNamingTheFlag(params string[] command)
    {
        var (code, _, err) = Run([.. command, "--solver", "rk4"]);
        code.Should().Be(2);
        err.Should().StartWith("error: --solver").And.Contain("rk4").And.Contain("dpm2m");
        Run(command[0], "--help").Out.Should().Contain("--solver").And.Contain("dpm2m").And.Contain("heun");
    }

    [Fact]
    public void AStudyVariantsSolverIsCheckedBeforeAnythingRuns()
    {
        var (code, _, err) = Run("study", "--out", Path.Combine(Dir, "s"), "--variant", "fast=labels||--solver rk4");
        code.Should().Be(2);
        err.Should().Contain("--solver").And.Contain("rk4");
        Directory.Exists(Path.Combine(Dir, "s")).Should().BeFalse("nothing is written before the options are valid");
    }

    [Fact]
    public void SamplingWithDpmSolverRecordsTheSolverAndItsEvaluations()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 2), run = Path.Combine(Dir, "run");
        var (code, _, err) = Run("train", source, "--out", run, "--batch", "2", "--kimg", "0.002");
        code.Should().Be(0, err);

        string dpm = Path.Combine(Dir, "dpm.npy");
        (code, var output, err) = Run("sample", run, "--n", "3", "--steps", "4", "--solver", "dpm2m", "--out", dpm, "--json");
        code.Should().Be(0, err);
        var json = JsonDocument.Parse(output).RootElement;
        json.GetProperty("solver").GetString().Should().Be("dpm2m");
        json.GetProperty("sampler").GetProperty("steps").GetDouble().Should().Be(4);
        json.GetProperty("sampler").GetProperty("nfe").GetDouble().Should().Be(4, "one evaluation per step");
        SampleRecord.Load(dpm).Solver.Should().Be(SamplerSolver.DpmSolver2M);
        Npy.Read(dpm).Shape.Should().Equal(3, 8, 8, 1);

        string heun = Path.Combine(Dir, "heun.npy");
        (code, output, err) = Run("sample", run, "--n", "3", "--steps", "4", "--solver", "heun", "--out", heun, "--json");
        code.Should().Be(0, err);
        json = JsonDocument.Parse(output).RootElement;
        json.GetProperty("solver").GetString().Should().Be("heun");
        json.GetProperty("sampler").GetProperty("nfe").GetDouble().Should().Be(7);

        string plain = Path.Combine(Dir, "default.npy");
        (code, output, err) = Run("sample", run, "--n", "3", "--steps", "4", "--out", plain, "--json");
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("solver").GetString().Should().Be("dpm2m", "the default");
        File.ReadAllBytes(plain).Should().Equal(File.ReadAllBytes(dpm));

        // Churn is Heun's: with dpm2m it is an error that names the flag, and nothing is written.
        string churned = Path.Combine(Dir, "churn.npy");
        (code, _, err) = Run("sample", run, "--n", "3", "--solver", "dpm2m", "--s-churn", "1", "--out", churned);
        code.Should().Be(2);
        err.Should().StartWith("error: --s-churn").And.Contain("--solver heun");
        File.Exists(churned).Should().BeFalse();
        Run("sample", run, "--n", "3", "--steps", "3", "--s-churn", "1", "--out", churned).Code.Should().Be(2, "the default solver is dpm2m");
        Run("sample", run, "--n", "3", "--steps", "3", "--solver", "heun", "--s-churn", "1", "--out", churned).Code.Should().Be(0, "churn with Heun still works");

        // A pipeline's sample step records --solver in its command line, and that line writes the same files.
        string step = Path.Combine(Dir, "step.npy");
        var call = PipelineStages.Sample(run, 3, new SamplerOptions { Steps = 4, Solver = SamplerSolver.DpmSolver2M }, step, null);
        call.CommandLine.Should().ContainInOrder("--solver", "dpm2m");
        call.Run(StageObserver.None);
        var byStep = File.ReadAllBytes(step);
        byStep.Should().Equal(File.ReadAllBytes(dpm), "the same seeds, steps and solver as the sample above");
        (code, _, err) = Run([.. call.CommandLine, "--force"]);
        code.Should().Be(0, err);
        File.ReadAllBytes(step).Should().Equal(byStep);
        PipelineStages.Sample(run, 3, new SamplerOptions { Steps = 4, Solver = SamplerSolver.Heun }, step, null).CommandLine
            .Should().ContainInOrder(["--solver", "heun"], "a recorded line names its solver whatever the default");
    }

    [Fact]
    public void RunAndStudySaveTheSolverInTheirOptions()
    {
        // The source does not exist: the options are saved, then the first step fails (exit 2).
        string run = Path.Combine(Dir, "run");
        Run("run", "npy:" + Path.Combine(Dir, "none.npy"), "--out", run, "--solver", "dpm2m").Code.Should().Be(2);
        string saved = File.ReadAllText(Path.Combine(run, MainJobOptions.FileName));
        saved.Should().Contain("\"sampler_solver\": \"dpm2m\"");
        var options = MainJobOptions.FromJson(saved);
        options.SamplerSolver.Should().Be(SamplerSolver.DpmSolver2M);

        string study = Path.Combine(Dir, "study");
        Run("study", "npy:" + Path.Combine(Dir, "none.npy"), "--out", study, "--solver", "dpm2m").Code.Should().Be(2);
        StudyOptions.FromJson(File.ReadAllText(Path.Combine(study, StudyOptions.FileName))).SamplerSolver.Should().Be(SamplerSolver.DpmSolver2M);
    }
}
