using Cedm.Clustering;
using Cedm.Clustering.Bounds;
using Cedm.Diffusion.Training;
using Cedm.Pipeline;
using Cedm.Stages;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Pipeline;

/// <summary>
/// The pipelines call the stage services directly and record the equivalent command line. These tests hold the
/// record to its word: every step's command line, re-run by hand through the CLI, writes the same files as the step.
/// </summary>
public sealed class PipelineStagesTests : CliTest
{
    /// <summary>Runs a stage call, keeps copies of <paramref name="outputs"/>, re-runs its command line with the CLI and returns both versions.</summary>
    private static List<(byte[] Step, byte[] Cli, string File)> StepThenCli(StageCall call, params string[] outputs)
    {
        call.Run(StageObserver.None);
        var first = outputs.Select(File.ReadAllBytes).ToList();
        var (code, _, err) = Run(call.CommandLine);
        code.Should().Be(0, $"{CommandLines.Render(call.CommandLine)}: {err}");
        return outputs.Select((f, i) => (first[i], File.ReadAllBytes(f), f)).ToList();
    }

    private static void Identical(List<(byte[] Step, byte[] Cli, string File)> files)
    {
        foreach (var (step, cli, file) in files) cli.Should().Equal(step, $"{file} must be the same whether the step or its command line wrote it");
    }

    [Fact]
    public void FeaturesClusteringAndBoundStepsMatchTheirCommandLines()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 20);
        string feats = Path.Combine(Dir, "feats.npy");
        Identical(StepThenCli(PipelineStages.Features(source, "pca:4", feats, 3), feats, Path.ChangeExtension(feats, ".pca.safetensors")));

        string clusters = Path.Combine(Dir, "clusters");
        Identical(StepThenCli(PipelineStages.Cluster(feats, "kmeans", 3, clusters, null, 5),
            Path.Combine(clusters, ClusterAssignment.IdsFile), Path.Combine(clusters, ClusterAssignment.ConfidenceFile), Path.Combine(clusters, ClusterModels.FileName)));

        string temi = Path.Combine(Dir, "temi");
        Identical(StepThenCli(PipelineStages.Cluster(feats, "temi", 3, temi, 2, 5), Path.Combine(temi, ClusterAssignment.IdsFile), Path.Combine(temi, ClusterAssignment.ProbabilitiesFile)));

        // TreeVAE clusters the source's images (cedm run --method treevae), with its epochs spelled out.
        string tree = Path.Combine(Dir, "treevae");
        var treeCall = PipelineStages.Cluster(source, "treevae", 3, tree, null, 5, "6/4/0/2");
        treeCall.CommandLine.Should().ContainInOrder("cluster", source, "--method", "treevae").And.ContainInOrder("--tree-epochs", "6/4/0/2");
        Identical(StepThenCli(treeCall, Path.Combine(tree, ClusterAssignment.IdsFile), Path.Combine(tree, ClusterAssignment.ProbabilitiesFile),
            Path.Combine(tree, ClusterModels.FileName), Path.Combine(tree, Cedm.Clustering.TreeVae.TreeVaeClusterer.TreeFile)));

        // bound.json holds wall times; the search itself (every K, K_used and ratio, K_UB) must agree.
        string bound = Path.Combine(Dir, "bound.json");
        var call = PipelineStages.Bound(feats, bound, 4, 50, 2, 1, budgetMinutes: 5);
        call.CommandLine.Should().ContainInOrder("--k0", "4");
        call.Run(StageObserver.None);
        var byStep = BoundFile.Load(bound);
        Run(call.CommandLine).Code.Should().Be(0);
        var byCli = BoundFile.Load(bound);
        byCli.KUpper.Should().Be(byStep.KUpper);
        byCli.Table.Select(r => (r.K, r.Utilized)).Should().Equal(byStep.Table.Select(r => (r.K, r.Utilized)));
    }

    [Fact]
    public void TrainingAndSamplingStepsMatchTheirCommandLinesAndAnInterruptedRunResumesWithTheBudgetLeft()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 8);
        string run = Path.Combine(Dir, "run");
        var training = PipelineStages.CpuRecipe("tiny", 7) with { Batch = 8, CheckpointKimg = 0.016, KeepCheckpoints = 3 };
        var request = new TrainRequest { Source = source, Cond = "labels", Out = run, Training = training };
        var call = PipelineStages.Train(request, new TrainBudget.Kimg(0.032));
        call.CommandLine.Should().ContainInOrder("--cond", "labels").And.ContainInOrder("--lr", "0.002").And.ContainInOrder("--dropout", "0");
        string ckpt = Path.Combine(run, Checkpoint.Folder, Checkpoint.FileName(32));
        Identical(StepThenCli(call, ckpt, Path.Combine(run, RunConfig.FileName)));

        string samples = Path.Combine(Dir, "s.npy");
        Identical(StepThenCli(PipelineStages.Sample(run, 3, new Cedm.Diffusion.Sampling.SamplerOptions { Steps = 4 }, samples, null, cluster: "all"), samples, Path.Combine(Dir, "s_clusters.npy")));

        // Now the run folder has a checkpoint: the same step continues it, and says so.
        PipelineStages.Train(request, new TrainBudget.Kimg(0.048)).CommandLine.Should().Equal("train", source, "--out", run, "--resume", "--kimg", "0.048");
        PipelineStages.Train(request, new TrainBudget.Minutes(9)).CommandLine.Should().ContainInOrder("--resume", "--minutes");
    }

    [Fact]
    public void EvaluationStepMatchesItsCommandLine()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 10);
        var real = TrainingTestData.Patterns(10);
        string samples = Path.Combine(Dir, "fake.npy");
        Cedm.IO.Npy.Write(samples, real.Pixels.Select(p => (byte)(255 - p)).ToArray(), real.Count, 8, 8);
        string metrics = Path.Combine(Dir, "metrics.json");
        var call = PipelineStages.Eval(source, samples, metrics, "pixels", quick: true, seed: 2);
        call.Run(StageObserver.None);
        var byStep = EvalReport.Load(metrics);
        Run(call.CommandLine).Code.Should().Be(0);
        var byCli = EvalReport.Load(metrics);
        byCli.Fd.Should().Be(byStep.Fd).And.BeGreaterThan(0);
        byCli.Kid.Should().Be(byStep.Kid);
        byCli.Coverage.Should().Be(byStep.Coverage);
    }
}
