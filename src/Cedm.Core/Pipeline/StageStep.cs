using System.Text.Json.Nodes;
using Cedm.IO;
using Cedm.Stages;

namespace Cedm.Pipeline;

/// <summary>What a <see cref="StageStep"/> runs: the equivalent cedm command line (for the log and the marker) and the stage call.</summary>
/// <param name="CommandLine">The `cedm` arguments a user would type to do the same by hand (<see cref="CommandLines"/>).</param>
/// <param name="Run">Calls the stage with typed inputs; returns the step's summary for its completion marker.</param>
public sealed record StageCall(string[] CommandLine, Func<IStageObserver, JsonObject?> Run);

/// <summary>
/// A pipeline step that calls one stage service directly (typed inputs and results, exceptions with their type)
/// and records the equivalent command line in logs/&lt;step&gt;.log, in its completion marker and so in the report,
/// so the run folder holds exactly what a user would get by typing the commands, and any step can be re-run or
/// replaced by hand. The stage's notes go to the same log.
/// </summary>
public sealed class StageStep(string name, string title, double weight, Func<PipelineFolder, StageCall> call) : IPipelineStep
{
    public string Name => name;

    public string Title => title;

    public double Weight => weight;

    /// <summary>The stage call this step makes in <paramref name="folder"/>, without running it (its command line, for tests).</summary>
    internal StageCall CallFor(PipelineFolder folder) => call(folder);

    public JsonObject? Run(PipelineFolder folder, IStageObserver observer)
    {
        var stage = call(folder);
        string command = CommandLines.Render(stage.CommandLine);
        string logPath = folder.PathOf(Path.Combine("logs", name + ".log"));
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        using var log = RegularFile.OpenText(logPath, append: false);
        log.WriteLine("$ " + command);
        log.Flush();
        JsonObject? summary;
        try
        {
            summary = stage.Run(new Logged(observer, log)) ?? new JsonObject();
        }
        catch (Exception e)
        {
            log.WriteLine($"error: {e.Message}");
            throw new PipelineStepException(name, logPath, e);
        }
        observer.Progress(1);
        summary["command"] = command;
        return summary;
    }

    private sealed class Logged(IStageObserver outer, StreamWriter log) : IStageObserver
    {
        public void Progress(double fraction, string? detail = null) => outer.Progress(fraction, detail);

        public void Note(string line)
        {
            log.WriteLine(line);
            log.Flush();
        }
    }
}

/// <summary>A pipeline step failed; the inner exception keeps its type (bad input stays bad input for the CLI's exit code).</summary>
public sealed class PipelineStepException(string step, string logPath, Exception inner)
    : Exception($"step '{step}' failed: {inner.Message} (log: {logPath})", inner)
{
    public string Step { get; } = step;
}
