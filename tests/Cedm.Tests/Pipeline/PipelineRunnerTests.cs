using Cedm.Stages;
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

        public JsonObject? Run(PipelineFolder context, IStageObserver progress)
        {
            Runs++;
            progress.Progress(0.5);
            if (fail) throw new InvalidOperationException("killed");
            progress.Progress(1);
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

    private sealed class SummaryStep(string name) : ISummaryStep
    {
        public int Runs;
        public string Name => name;
        public string Title => name;
        public double Weight => 1;

        public JsonObject? Run(PipelineFolder context, IStageObserver progress) { Runs++; return null; }
    }

    [Fact]
    public void ASummaryIsRewrittenWhenAWidenedPlanFinishedStepsAfterIt()
    {
        // A study narrowed to one model, reported, then widened: the report must not stay the narrow one.
        var ctx = new PipelineFolder(_dir);
        var a = new CountingStep("a", 1);
        var report = new SummaryStep("report");
        PipelineRunner.Run([a, report], ctx, new Recorder());
        PipelineRunner.Run([a, report], ctx, new Recorder());
        report.Runs.Should().Be(1, "nothing finished after it: the summary is current");

        Thread.Sleep(20);   // the widened step's marker must be measurably newer
        var b = new CountingStep("b", 1);
        var recorder = new Recorder();
        PipelineRunner.Run([a, b, report], ctx, recorder);
        recorder.Events.Should().Equal("skip 1/3 a", "start 2/3 b", "done 2/3 b", "start 3/3 report", "done 3/3 report");
        report.Runs.Should().Be(2);

        var plain = new CountingStep("plain", 1);
        PipelineRunner.Run([a, b, plain], ctx, new Recorder());
        Thread.Sleep(20);
        ctx.MarkComplete("a", TimeSpan.Zero);
        PipelineRunner.Run([a, b, plain], ctx, new Recorder());
        plain.Runs.Should().Be(1, "an ordinary step keeps its marker whatever finished before it");
    }

    [Fact]
    public void ARerunResumesAtTheFirstUnfinishedStep()
    {
        var ctx = new PipelineFolder(_dir);
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

    [Fact]
    public void APlanThatGrowsFromAnEarlierStepsOutputRunsEveryStepOnceAndResumes()
    {
        // Like `cedm study`: step "count" writes how many further steps there are; the plan reads it once it exists.
        var ctx = new PipelineFolder(_dir);
        var made = new Dictionary<string, CountingStep>();
        CountingStep Step(string name) => made.TryGetValue(name, out var s) ? s : made[name] = new CountingStep(name, 1);
        IReadOnlyList<IPipelineStep> Plan(PipelineFolder c)
        {
            var steps = new List<IPipelineStep> { new WriteStep("count", c.PathOf("n.txt"), "3") };
            int n = File.Exists(c.PathOf("n.txt")) ? int.Parse(File.ReadAllText(c.PathOf("n.txt")), System.Globalization.CultureInfo.InvariantCulture) : 1;
            steps.AddRange(Enumerable.Range(0, n).Select(i => Step($"s{i}")));
            return steps;
        }
        var recorder = new Recorder();
        PipelineRunner.Run(Plan, ctx, recorder);
        recorder.Events.Should().Equal("start 1/2 count", "done 1/2 count", "start 2/4 s0", "done 2/4 s0", "start 3/4 s1", "done 3/4 s1", "start 4/4 s2", "done 4/4 s2");
        made.Values.Should().OnlyContain(s => s.Runs == 1);

        var again = new Recorder();
        PipelineRunner.Run(Plan, ctx, again);
        again.Events.Should().Equal("skip 1/4 count", "skip 2/4 s0", "skip 3/4 s1", "skip 4/4 s2");
        made.Values.Should().OnlyContain(s => s.Runs == 1);
    }

    private sealed class WriteStep(string name, string path, string text) : IPipelineStep
    {
        public string Name => name;
        public string Title => name;
        public double Weight => 1;

        public JsonObject? Run(PipelineFolder context, IStageObserver progress)
        {
            File.WriteAllText(path, text);
            return null;
        }
    }
}
