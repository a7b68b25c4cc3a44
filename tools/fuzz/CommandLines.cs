using System.CommandLine;

namespace Cedm.Fuzz;

/// <summary>
/// Bad command lines: every option of every verb given values a careless or hostile user types (empty, negative, zero,
/// NaN, infinity, overflowing, words, a missing file), each on an otherwise valid command line, plus an unknown option
/// and a missing required argument per verb. The error must be one `error:` line naming the flag.
/// </summary>
public static class CommandLines
{
    public static readonly string[] BadValues = ["", "-1", "0", "nan", "inf", "-inf", "1e400", "2147483648", "2000000000", "abc", "1,2", "/nonexistent/x.npy"];

    /// <summary>A valid command line per verb (fast on the workspace's tiny inputs), into which one bad value is put.</summary>
    public static IReadOnlyDictionary<string, string[]> Bases(Workspace w, string caseDir) => new Dictionary<string, string[]>
    {
        ["data info"] = ["data", "info", $"npy:{w.Images},{w.Labels}"],
        ["data grid"] = ["data", "grid", $"npy:{w.Images}", "--out", Path.Combine(caseDir, "g.png")],
        ["features"] = ["features", $"npy:{w.Images}", "--extractor", "pixels", "--out", Path.Combine(caseDir, "f.npy")],
        ["cluster"] = ["cluster", w.Features, "--k", "2", "--out", Path.Combine(caseDir, "c")],
        ["score"] = ["score", w.Clusters, w.FeatureLabels],
        ["train"] = ["train", $"npy:{w.Images},{w.Labels}", "--out", Path.Combine(caseDir, "r"), "--kimg", "0.004", "--batch", "4"],
        ["sample"] = ["sample", w.Run, "--seeds", "0-0", "--steps", "2", "--out", Path.Combine(caseDir, "s.npy")],
        ["fd"] = ["fd", w.Features, w.Features],
        ["bound"] = ["bound", w.Features, "--out", Path.Combine(caseDir, "b.json"), "--k0", "2", "--max-k", "4", "--epochs", "2"],
    };

    /// <summary>(case name, arguments, what the error must name: the flag, or the file a path value names).</summary>
    public static IEnumerable<(string Name, string[] Args, string[] MustName)> Cases(Workspace w, string caseDir)
    {
        var root = Cedm.Cli.Program.BuildRoot();
        foreach (var (verb, baseArgs) in Bases(w, caseDir))
        {
            var command = verb.Split(' ').Aggregate((Command)root, (cmd, name) => cmd.Subcommands.First(s => s.Name == name));
            // Valued options only: a flag (bool) given a value is an extra argument, reported as such.
            foreach (var option in command.Options.Where(o => o.Arity.MaximumNumberOfValues > 0 && o.ValueType != typeof(bool) && o.Name != "--out"))
                foreach (var value in BadValues.Concat(option.CompletionSources.Count > 0 ? ["no-such-choice"] : []))
                {
                    var args = Replace(baseArgs, option.Name, value);
                    yield return ($"{verb} {option.Name} '{value}'", args, value.StartsWith('/') ? [option.Name, value] : [option.Name]);
                }
            yield return ($"{verb} --no-such-option", [.. baseArgs, "--no-such-option"], ["--no-such-option"]);
        }
    }

    private static string[] Replace(string[] args, string flag, string value)
    {
        var list = args.ToList();
        int at = list.IndexOf(flag);
        if (at >= 0) list[at + 1] = value;
        else list.AddRange([flag, value]);
        return [.. list];
    }
}
