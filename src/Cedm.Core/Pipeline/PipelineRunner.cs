using System.Diagnostics;
using Cedm.IO;
using Cedm.Stages;

namespace Cedm.Pipeline;

/// <summary>
/// Runs steps in order, skipping those whose completion marker exists (a re-run with the same folder resumes),
/// and reports progress over the whole run with each step's share given by its weight.
/// </summary>
public static class PipelineRunner
{
    public static void Run(IReadOnlyList<IPipelineStep> steps, PipelineFolder context, IPipelineObserver observer) =>
        Run(_ => steps, context, observer);

    /// <summary>
    /// Runs a plan whose later steps depend on what earlier steps wrote (e.g. `cedm study` trains one model per K,
    /// and K comes from the bound search): the plan is asked again after every finished step, and the first
    /// unfinished step of the current plan runs next. Until the files it depends on exist, a plan lists its best
    /// guess of the remaining steps (only the weights matter for the progress estimate).
    /// </summary>
    public static void Run(Func<PipelineFolder, IReadOnlyList<IPipelineStep>> plan, PipelineFolder context, IPipelineObserver observer)
    {
        // One writer per pipeline folder; what a killed writer left half-written in it is removed under the lock.
        using var folderLock = FolderLock.Acquire(context.Directory);
        AtomicFile.CleanStaleTemps(context.Directory);
        AtomicFile.CleanStaleTemps(context.PathOf("steps"));
        var reported = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var steps = plan(context);
            double total = steps.Sum(s => s.Weight), done = 0;
            int next = -1;
            for (int i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                if (!IsCurrent(steps, i, context)) { next = i; break; }
                if (reported.Add(step.Name)) observer.StepSkipped(i, steps.Count, step);
                done += step.Weight;
            }
            if (next < 0) return;
            RunStep(steps, next, context, observer, done, total);
            reported.Add(steps[next].Name);
        }
    }

    /// <summary>Whether step <paramref name="i"/> is done: its marker exists and, for a summary, is newer than every earlier marker.</summary>
    private static bool IsCurrent(IReadOnlyList<IPipelineStep> steps, int i, PipelineFolder context)
    {
        if (context.CompletedAt(steps[i].Name) is not DateTime at) return false;
        if (steps[i] is not ISummaryStep) return true;
        for (int j = 0; j < i; j++)
            if (context.CompletedAt(steps[j].Name) is DateTime earlier && earlier > at) return false;
        return true;
    }

    private static void RunStep(IReadOnlyList<IPipelineStep> steps, int i, PipelineFolder context, IPipelineObserver observer, double before, double total)
    {
        var step = steps[i];
        observer.StepStarted(i, steps.Count, step);
        var clock = Stopwatch.StartNew();
        var summary = step.Run(context, new StepObserver(f =>
            observer.StepProgress(i, step, Math.Clamp(f, 0, 1), (before + Math.Clamp(f, 0, 1) * step.Weight) / total)));
        // The marker is written only after the step's own outputs: a kill before this line re-runs the step.
        context.MarkComplete(step.Name, clock.Elapsed, summary);
        observer.StepFinished(i, steps.Count, step, clock.Elapsed);
    }

    /// <summary>
    /// A step's stage observer: fractions go to the view in order, on the caller's thread. Notes are the step's own
    /// business (<see cref="StageStep"/> keeps them in its log file).
    /// </summary>
    private sealed class StepObserver(Action<double> report) : IStageObserver
    {
        public void Progress(double fraction, string? detail = null) => report(fraction);

        public void Note(string line) { }
    }
}
