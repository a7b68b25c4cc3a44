using System.Text.Json.Nodes;
using Cedm.Diffusion.Sampling;
using Cedm.Pipeline;
using Cedm.Pipeline.Study;
using FluentAssertions;

namespace Cedm.Tests.Pipeline;

/// <summary>The sampler's solver in `cedm run` and `cedm study` options: saved, read back, and in every sample step's command line.</summary>
public sealed class SamplerSolverPipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-solver-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static string[] CommandLineOf(IReadOnlyList<IPipelineStep> plan, string step, PipelineFolder folder) =>
        plan.OfType<StageStep>().Single(s => s.Name == step).CallFor(folder).CommandLine;

    [Fact]
    public void MainJobOptionsCarryTheSolverIntoItsSampleSteps()
    {
        var o = new MainJobOptions { K = 3, SamplerSolver = SamplerSolver.DpmSolver2M };
        var folder = new PipelineFolder(_dir);
        foreach (string step in new[] { "samples", "eval-samples" })
            CommandLineOf(MainJobPlan.For(o), step, folder).Should().ContainInOrder("--steps", "18").And.ContainInOrder("--solver", "dpm2m");
        CommandLineOf(MainJobPlan.For(o with { SamplerSolver = SamplerSolver.Heun }), "samples", folder).Should().ContainInOrder("--solver", "heun");

        MainJobOptions.FromJson(o.ToJson()).Should().Be(o);
        // A run.json written before the solver existed reads as Heun.
        var old = JsonNode.Parse(new MainJobOptions().ToJson())!.AsObject();
        old.Remove("sampler_solver").Should().BeTrue();
        MainJobOptions.FromJson(old.ToJsonString()).Should().Be(new MainJobOptions { SamplerSolver = SamplerSolver.Heun });
        new MainJobOptions().SamplerSolver.Should().Be(SamplerSolver.DpmSolver2M, "the default since the FD sweep");
    }

    [Fact]
    public void StudyOptionsCarryTheSolverAndAVariantMayOverrideIt()
    {
        var o = new StudyOptions { SamplerSolver = SamplerSolver.DpmSolver2M, ExtraVariants = ["slow=labels||--solver heun"] };
        o.Validate();
        var plan = new StudySteps(o, new SourceFacts(1000, 10)).Plan(new PipelineFolder(_dir));
        var folder = new PipelineFolder(_dir);
        CommandLineOf(plan, "variants/uncond/sample", folder).Should().ContainInOrder("--solver", "dpm2m");
        CommandLineOf(plan, "variants/slow/sample", folder).Should().ContainInOrder("--solver", "heun");

        StudyOptions.FromJson(o.ToJson()).SameAs(o).Should().BeTrue();
        var old = JsonNode.Parse(new StudyOptions().ToJson())!.AsObject();
        old.Remove("sampler_solver").Should().BeTrue();
        StudyOptions.FromJson(old.ToJsonString()).SameAs(new StudyOptions { SamplerSolver = SamplerSolver.Heun }).Should().BeTrue();

        // The cost model counts network evaluations: 18 for dpm2m against Heun's 35.
        (StudyPlan.Cost.Sample(o) / StudyPlan.Cost.Sample(new StudyOptions { SamplerSolver = SamplerSolver.Heun })).Should().BeApproximately(18.0 / 35, 1e-12);
        VariantArguments.ApplySample(new SamplerOptions(), ["--solver", "dpm2m", "--steps", "9"], "v").Sampler
            .Should().Be(new SamplerOptions { Solver = SamplerSolver.DpmSolver2M, Steps = 9 });
    }

    [Fact]
    public void MainJobChecksNoveltyAgainstTheHeldOutSplitWhenTheSourceHasOne()
    {
        var folder = new PipelineFolder(_dir);
        var o = new MainJobOptions { K = 3 };
        CommandLineOf(MainJobPlan.For(o), "memorisation", folder).Should()
            .ContainInOrder("eval", "fashion-mnist:test").And.ContainInOrder("--train-source", "fashion-mnist");
        CommandLineOf(MainJobPlan.For(o with { Source = "mnist" }), "memorisation", folder).Should()
            .ContainInOrder("eval", "mnist:test").And.ContainInOrder("--train-source", "mnist");
        // Trained on the test split (--quick), or on a source without one: nothing held out, no step.
        foreach (var source in new[] { "fashion-mnist:test", "npy:x.npy", "folder:imgs" })
            MainJobPlan.For(o with { Source = source }).Should().NotContain(s => s.Name == "memorisation", source);
        Cedm.Data.DataSource.Parse("cifar100:c.tgz:coarse").HeldOut.Should().Be("cifar100:c.tgz:test:coarse");
        Cedm.Data.DataSource.Parse("cifar10:c.tgz").HeldOut.Should().Be("cifar10:c.tgz:test");
        Cedm.Data.DataSource.Parse(Cedm.Data.DataSource.Parse("cifar100:c.tgz:coarse").HeldOut!).Should()
            .Be(new Cedm.Data.Cifar100Source("c.tgz", Cedm.Data.DataSplit.Test, true), "the held-out text parses back to the test split");
    }
}
