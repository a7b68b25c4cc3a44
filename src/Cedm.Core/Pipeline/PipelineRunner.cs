using System.Diagnostics;

namespace Cedm.Pipeline;

/// <summary>
/// Runs steps in order, skipping those whose completion marker exists (a re-run with the same folder resumes),
/// and reports progress over the whole run with each step's share given by its weight.
/// </summary>
public static class PipelineRunner
{
    public static void Run(IReadOnlyList<IPipelineStep> steps, RunContext context, IPipelineObserver observer)
    {
        double total = steps.Sum(s => s.Weight);
        double done = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (context.IsComplete(step.Name))
            {
                observer.StepSkipped(i, steps.Count, step);
                done += step.Weight;
                continue;
            }
            observer.StepStarted(i, steps.Count, step);
            var clock = Stopwatch.StartNew();
            double before = done;
            var summary = step.Run(context, new SynchronousProgress(f =>
                observer.StepProgress(i, step, Math.Clamp(f, 0, 1), (before + Math.Clamp(f, 0, 1) * step.Weight) / total)));
            // The marker is written only after the step's own outputs: a kill before this line re-runs the step.
            context.MarkComplete(step.Name, clock.Elapsed, summary);
            done += step.Weight;
            observer.StepFinished(i, steps.Count, step, clock.Elapsed);
        }
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; the view wants reports in order, on the caller's thread.</summary>
    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
