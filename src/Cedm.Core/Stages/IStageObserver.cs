namespace Cedm.Stages;

/// <summary>
/// How a stage tells its caller what it is doing: a fraction of its work with a short description (shown as a
/// progress bar by the CLI, folded into the pipeline's run bar by `cedm run`) and notes (lines a user should read,
/// e.g. a fallback taken). Core never writes to the console; whoever runs a stage decides where this goes.
/// </summary>
public interface IStageObserver
{
    /// <summary>Fraction in [0, 1] of the stage's work and a short description of where it is.</summary>
    void Progress(double fraction, string? detail = null);

    /// <summary>One line of information for the user.</summary>
    void Note(string line);
}

/// <summary>Observers for callers that want nothing, or only the progress fraction.</summary>
public static class StageObserver
{
    public static IStageObserver None { get; } = new Silent();

    /// <summary>An <see cref="IProgress{T}"/> of the fraction alone, for the engine's progress parameters.</summary>
    public static IProgress<double> Fraction(this IStageObserver observer, string? detail = null) => new FractionOnly(observer, detail);

    /// <summary>Reports the fractions of <paramref name="observer"/> mapped into [start, start + width] of the stage.</summary>
    public static IProgress<double> Part(this IStageObserver observer, double start, double width, string? detail = null) =>
        new FractionOnly(observer, detail, start, width);

    private sealed class Silent : IStageObserver
    {
        public void Progress(double fraction, string? detail = null) { }

        public void Note(string line) { }
    }

    private sealed class FractionOnly(IStageObserver observer, string? detail, double start = 0, double width = 1) : IProgress<double>
    {
        public void Report(double value) => observer.Progress(start + width * Math.Clamp(value, 0, 1), detail);
    }
}
