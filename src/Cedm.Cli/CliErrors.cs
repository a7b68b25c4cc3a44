using System.CommandLine;
using System.Text;
using Cedm.IO;

namespace Cedm.Cli;

/// <summary>
/// Bad usage or bad input: exit code 2 and one line that names the option or file and what was expected
/// (cli.md "Conventions").
/// </summary>
public sealed class UsageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Turns exceptions into the CLI's `error:` lines. The library names parameters, not flags: an
/// <see cref="ArgumentException"/> carries the name of the request or options property it is about
/// (<see cref="ArgumentException.ParamName"/>), and this maps it to the command's flag (PascalCase → kebab-case, or
/// <see cref="FlagAliases"/> where a flag is spelled otherwise).
/// </summary>
public static class CliErrors
{
    /// <summary>Properties whose flag is not their kebab-case name.</summary>
    private static readonly Dictionary<string, string> FlagAliases = new(StringComparer.Ordinal)
    {
        ["EmaHalflifeKimg"] = "--ema-kimg",
        ["KeepCheckpoints"] = "--keep",
        ["EmaRampupRatio"] = "--ema-rampup",
        ["Threshold"] = "--threshold",
        ["GridPoints"] = "--grid",
        ["MaxRows"] = "--max-n",
        ["SamplerSteps"] = "--steps",
        ["SamplerSolver"] = "--solver",
        ["CoherenceGuidance"] = "--ca-guidance",
        ["CoherenceLow"] = "--ca-low",
        ["BatchSize"] = "--batch",
        ["MinRowsPerCluster"] = "--min-per-cluster",
        ["TimeBudgetSeconds"] = "--budget-minutes",
        ["MaxLeaves"] = "--k",
    };

    /// <summary>Turns an exception into one `error:` line (plus the stack with --verbose) and an exit code.</summary>
    public static int Report(Exception ex, TextWriter stderr, bool verbose, Command? command = null)
    {
        if (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
        // A failed pipeline step keeps the type of what failed inside it: bad input there is still bad input.
        var cause = ex is Cedm.Pipeline.PipelineStepException { InnerException: { } inner } ? inner : ex;
        bool usage = cause is UsageException or ArgumentException or FileNotFoundException or DirectoryNotFoundException
            or InvalidDataException or FormatException or NotSupportedException or OutputExistsException or FolderInUseException or OutputWriteException
            or UnauthorizedAccessException;
        stderr.WriteLine($"error: {Printable(Message(ex, command))}");
        if (verbose) stderr.WriteLine(ex.ToString());
        return usage ? 2 : 1;
    }

    /// <summary>
    /// <paramref name="text"/> safe for a terminal and on one line: control characters (ESC sequences from a crafted file
    /// name or header, line breaks of a multi-line message) become visible escapes such as \x1b, and bidirectional
    /// overrides, which can disguise a file name, become \u202e.
    /// </summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        foreach (char c in text.TrimEnd())
        {
            if (c is '\n' or '\r') sb.Append(' ');
            else if (char.IsControl(c) && c != '\t') sb.Append($"\\x{(int)c:x2}");
            else if (c is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069') sb.Append($"\\u{(int)c:x4}");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The exception's message in the CLI's words (flags instead of parameter names, the --force hint).</summary>
    public static string Message(Exception ex, Command? command)
    {
        switch (ex)
        {
            case OutputExistsException exists:
                return $"{exists.Path} already exists; pass --force to overwrite it";
            case ArgumentException { ParamName: { Length: > 0 } name } arg:
                string text = arg.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
                if (text.StartsWith("--", StringComparison.Ordinal)) return text;
                string? flag = FlagOf(name, command);
                return flag is null ? text : $"{flag}: {text}";
            default:
                return ex.Message;
        }
    }

    /// <summary>The flag of <paramref name="command"/> (or a parent's recursive one) a library parameter name stands for, or null.</summary>
    public static string? FlagOf(string parameter, Command? command)
    {
        string flag = FlagAliases.TryGetValue(parameter, out var alias) ? alias : "--" + KebabCase(parameter);
        if (command is null) return flag;
        return command.Options.Any(o => o.Name == flag || o.Aliases.Contains(flag)) ? flag : null;
    }

    /// <summary>"MaxK" → "max-k", "NInit" → "n-init", "KidSubsetSize" → "kid-subset-size".</summary>
    public static string KebabCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('-');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}
