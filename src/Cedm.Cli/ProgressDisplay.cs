using Cedm.Stages;
using Spectre.Console;

namespace Cedm.Cli;

/// <summary>
/// The one progress display of the CLI (cli.md "Conventions": bars only when stderr is a terminal). A verb runs its
/// stage with the <see cref="IStageObserver"/> this gives: on a terminal a Spectre bar with the stage's
/// description, elsewhere nothing; notes go to the verb's error writer either way.
/// </summary>
public static class ProgressDisplay
{
    public static T Run<T>(string title, TextWriter notes, Func<IStageObserver, T> work)
    {
        if (Console.IsErrorRedirected || notes != Console.Error) return work(new NotesOnly(notes));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1.0);
                result = work(new Bar(task, title, console));
                task.Value = 1.0;
            });
        return result;
    }

    private sealed class NotesOnly(TextWriter notes) : IStageObserver
    {
        public void Progress(double fraction, string? detail = null) { }

        public void Note(string line) => notes.WriteLine(line);
    }

    private sealed class Bar(ProgressTask task, string title, IAnsiConsole console) : IStageObserver
    {
        public void Progress(double fraction, string? detail = null)
        {
            task.Value = Math.Clamp(fraction, 0, 1);
            task.Description = Markup.Escape(detail is null ? title : $"{title}: {detail}");
        }

        public void Note(string line) => console.WriteLine(line);
    }
}
