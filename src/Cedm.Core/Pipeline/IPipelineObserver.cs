namespace Cedm.Pipeline;

/// <summary>What the progress view is told: step n of m starts, advances, finishes or is skipped (already done).</summary>
public interface IPipelineObserver
{
    void StepSkipped(int index, int count, IPipelineStep step);

    void StepStarted(int index, int count, IPipelineStep step);

    /// <summary>Fraction in [0, 1] of the current step, and of the whole run (by step weights).</summary>
    void StepProgress(int index, IPipelineStep step, double stepFraction, double runFraction);

    void StepFinished(int index, int count, IPipelineStep step, TimeSpan elapsed);
}
