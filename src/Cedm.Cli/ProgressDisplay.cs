using Spectre.Console;

namespace Cedm.Cli;

/// <summary>
/// A progress bar on stderr, shown only when stderr is a terminal (cli.md "Conventions"); otherwise the work runs
/// silently. The work receives a reporter taking (fraction 0..1, description).
/// </summary>
public static class ProgressDisplay
{
    /// <summary>
    /// Set by `cedm run` while a step runs a command in-process: the command's progress then feeds the pipeline's
    /// single progress view instead of opening a second one.
    /// </summary>
    internal static Action<double, string>? Forward { get; set; }

    public static T Run<T>(string title, Func<Action<double, string>, T> work)
    {
        if (Forward is { } forward) return work(forward);
        if (Console.IsErrorRedirected) return work((_, _) => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1.0);
                result = work((fraction, text) =>
                {
                    task.Value = Math.Clamp(fraction, 0, 1);
                    task.Description = Markup.Escape(text);
                });
            });
        return result;
    }
}
