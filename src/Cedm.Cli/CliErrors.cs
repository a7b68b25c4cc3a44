namespace Cedm.Cli;

/// <summary>
/// Bad usage or bad input: exit code 2 and one line that names the option or file and what was expected
/// (cli.md "Conventions").
/// </summary>
public sealed class UsageException(string message, Exception? inner = null) : Exception(message, inner);

public static class CliErrors
{
    /// <summary>Turns an exception into one `error:` line (plus the stack with --verbose) and an exit code.</summary>
    public static int Report(Exception ex, TextWriter stderr, bool verbose)
    {
        if (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
        bool usage = ex is UsageException or ArgumentException or FileNotFoundException or DirectoryNotFoundException
            or InvalidDataException or FormatException or NotSupportedException;
        stderr.WriteLine($"error: {ex.Message}");
        if (verbose) stderr.WriteLine(ex.ToString());
        return usage ? 2 : 1;
    }
}
