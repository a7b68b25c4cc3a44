using System.Text.Json.Nodes;
using Cedm.Pipeline;

namespace Cedm.Cli.Pipeline;

/// <summary>
/// A `cedm run` step that is one ordinary cedm command run in-process, so the run folder holds exactly what a user
/// would get by typing the command (and the command line is logged, to re-run or replace the step by hand).
/// </summary>
public sealed class CommandStep(string name, string title, double weight, Func<RunContext, string[]> arguments,
    Func<RunContext, JsonObject?>? summarize = null) : IPipelineStep
{
    public string Name => name;

    public string Title => title;

    public double Weight => weight;

    public JsonObject? Run(RunContext context, IProgress<double> progress)
    {
        var args = arguments(context);
        string logPath = context.PathOf(Path.Combine("logs", name + ".log"));
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        using var log = new StreamWriter(logPath, append: false);
        log.WriteLine("$ cedm " + string.Join(' ', args.Select(Quote)));
        log.Flush();
        ProgressDisplay.Forward = (fraction, _) => progress.Report(fraction);
        int code;
        try { code = Program.Run(args, log, log); }
        finally { ProgressDisplay.Forward = null; }
        log.Flush();
        if (code != 0)
        {
            var tail = File.ReadLines(logPath).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).LastOrDefault() ?? $"exit code {code}";
            throw new InvalidOperationException($"step '{name}' failed: {tail} (full log: {logPath})");
        }
        progress.Report(1);
        var summary = summarize?.Invoke(context) ?? new JsonObject();
        summary["command"] = "cedm " + string.Join(' ', args.Select(Quote));
        return summary;
    }

    private static string Quote(string a) => a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a;
}
