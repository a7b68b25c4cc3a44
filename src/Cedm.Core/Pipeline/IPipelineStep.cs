using System.Text.Json.Nodes;
using Cedm.Stages;

namespace Cedm.Pipeline;

/// <summary>
/// One stage of `cedm run` or `cedm study` (features, bound, clusters, training, samples, evaluation, report). A step
/// reads the files earlier steps left in the pipeline folder and writes its own there, in the CLI contract's
/// formats, so any step can be re-run or replaced by hand.
/// </summary>
public interface IPipelineStep
{
    /// <summary>Short name, also the name of its completion marker (e.g. "features").</summary>
    string Name { get; }

    /// <summary>One line for the progress view (e.g. "PCA features (64-d)").</summary>
    string Title { get; }

    /// <summary>Rough share of the whole run's time, used to estimate the time left before a step has run.</summary>
    double Weight { get; }

    /// <summary>Does the work, reporting to <paramref name="observer"/>; returns a small summary kept in the step's completion marker (or null).</summary>
    JsonObject? Run(PipelineFolder folder, IStageObserver observer);
}

/// <summary>
/// A step built from every earlier step's outputs (a report): on resume it counts as done only while its marker is
/// newer than each earlier step's, so a run that finished more steps since (a study widened by editing its options)
/// rewrites it instead of keeping the old summary.
/// </summary>
public interface ISummaryStep : IPipelineStep;
