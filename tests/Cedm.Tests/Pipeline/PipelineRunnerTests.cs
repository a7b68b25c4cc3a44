using System.Text.Json.Nodes;
using Cedm.Pipeline;
using FluentAssertions;

namespace Cedm.Tests.Pipeline;

public sealed class PipelineRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class CountingStep(string name, double weight, bool fail = false) : IPipelineStep
    {
        public int Runs;
        public string Name => name;
        public string Title => name;
        public double Weight => weight;

        public JsonObject? Run(RunContext context, IProgress<double> progress)
        {
            Runs++;
            progress.Report(0.5);
            if (fail) throw new InvalidOperationException("killed");
            progress.Report(1);
            return new JsonObject { ["runs"] = Runs };
        }
    }

    private sealed class Recorder : IPipelineObserver
    {
        public readonly List<string> Events = [];
        public readonly List<double> RunFractions = [];
        public void StepSkipped(int i, int n, IPipelineStep s) => Events.Add($"skip {i + 1}/{n} {s.Name}");
        public void StepStarted(int i, int n, IPipelineStep s) => Events.Add($"start {i + 1}/{n} {s.Name}");
        public void StepProgress(int i, IPipelineStep s, double f, double run) => RunFractions.Add(run);
        public void StepFinished(int i, int n, IPipelineStep s, TimeSpan t) => Events.Add($"done {i + 1}/{n} {s.Name}");
    }

    [Fact]
    public void ARerunResumesAtTheFirstUnfinishedStep()
    {
        var ctx = new RunContext(_dir);
        var a = new CountingStep("a", 1);
        var failing = new CountingStep("b", 3, fail: true);
        var act = () => PipelineRunner.Run([a, failing], ctx, new Recorder());
        act.Should().Throw<InvalidOperationException>();
        ctx.IsComplete("a").Should().BeTrue();
        ctx.IsComplete("b").Should().BeFalse("a step that died must run again");

        var b = new CountingStep("b", 3);
        var recorder = new Recorder();
        PipelineRunner.Run([a, b], ctx, recorder);
        a.Runs.Should().Be(1, "finished steps are not recomputed");
        b.Runs.Should().Be(1);
        recorder.Events.Should().Equal("skip 1/2 a", "start 2/2 b", "done 2/2 b");
        recorder.RunFractions.Should().Equal(0.25 + 0.5 * 0.75, 1.0);
        ctx.Marker("b")!["summary"]!["runs"]!.GetValue<int>().Should().Be(1);
    }
}
