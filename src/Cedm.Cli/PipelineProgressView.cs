using Cedm.Pipeline;
using Spectre.Console;

namespace Cedm.Cli;

/// <summary>
/// One progress view for a whole pipeline (cli.md: bars only when stderr is a terminal): on a terminal a Spectre
/// bar for the run (step n of m, with the estimate of time left from the step weights) and one for the current
/// step; otherwise one plain line per step on stderr.
/// </summary>
public static class PipelineProgressView
{
    public static void Run(IReadOnlyList<IPipelineStep> steps, PipelineFolder context, TextWriter log) => Run(_ => steps, context, log);

    /// <summary>A plan re-read after every step (<see cref="PipelineRunner.Run(Func{PipelineFolder, IReadOnlyList{IPipelineStep}}, PipelineFolder, IPipelineObserver)"/>).</summary>
    public static void Run(Func<PipelineFolder, IReadOnlyList<IPipelineStep>> plan, PipelineFolder context, TextWriter log)
    {
        if (Console.IsErrorRedirected || log != Console.Error)
        {
            PipelineRunner.Run(plan, context, new PlainLines(log));
            return;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var run = ctx.AddTask("[bold]run[/]", maxValue: 1.0);
                PipelineRunner.Run(plan, context, new Bars(ctx, run));
                run.Value = 1.0;
            });
    }

    private sealed class PlainLines(TextWriter log) : IPipelineObserver
    {
        public void StepSkipped(int i, int n, IPipelineStep s) => log.WriteLine($"step {i + 1}/{n}: {s.Title}: already done, skipped");
        public void StepStarted(int i, int n, IPipelineStep s) => log.WriteLine($"step {i + 1}/{n}: {s.Title} ...");
        public void StepProgress(int i, IPipelineStep s, double f, double run) { }
        public void StepFinished(int i, int n, IPipelineStep s, TimeSpan t) => log.WriteLine($"step {i + 1}/{n}: {s.Title}: done in {t.TotalSeconds:F1} s");
    }

    private sealed class Bars(ProgressContext ctx, ProgressTask run) : IPipelineObserver
    {
        private ProgressTask? _step;

        public void StepSkipped(int i, int n, IPipelineStep s)
        {
            var t = ctx.AddTask($"{i + 1}/{n} {Markup.Escape(s.Title)} [grey](done before)[/]", maxValue: 1.0);
            t.Value = 1.0;
        }

        public void StepStarted(int i, int n, IPipelineStep s) => _step = ctx.AddTask($"{i + 1}/{n} {Markup.Escape(s.Title)}", maxValue: 1.0);

        public void StepProgress(int i, IPipelineStep s, double f, double runFraction)
        {
            if (_step != null) _step.Value = f;
            run.Value = runFraction;
        }

        public void StepFinished(int i, int n, IPipelineStep s, TimeSpan t)
        {
            if (_step != null) _step.Value = 1.0;
        }
    }
}
