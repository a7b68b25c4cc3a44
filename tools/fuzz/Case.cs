namespace Cedm.Fuzz;

/// <summary>How one run of the CLI ended, in the three classes issue 18 counts.</summary>
public enum Outcome
{
    /// <summary>Exit 2 with one `error:` line naming the input file (or, for a command line, the flag).</summary>
    Named,

    /// <summary>Exit 0: the input was valid after all (a mutation can leave a file valid).</summary>
    Accepted,

    /// <summary>Anything else: exit 1, an unnamed or multi-line error, an escaped exception, a hang. Must be 0.</summary>
    Other,
}

/// <summary>The result of one case, with what is needed to reproduce and read it.</summary>
public sealed record CaseResult(string Target, string Case, Outcome Outcome, int Code, string Detail, string[] Args);

/// <summary>Runs the CLI in-process with a time limit and classifies the outcome.</summary>
public static class CaseRunner
{
    public static CaseResult Run(string target, string caseName, string[] args, IReadOnlyList<string> mustName, TimeSpan limit, IReadOnlyDictionary<string, string>? env = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var saved = new Dictionary<string, string?>();
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) { saved[k] = Environment.GetEnvironmentVariable(k); Environment.SetEnvironmentVariable(k, v); }
        int code;
        try
        {
            var task = Task.Run(() => Cedm.Cli.Program.Run(args, TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr)));
            if (!task.Wait(limit)) return new CaseResult(target, caseName, Outcome.Other, -1, $"no exit within {limit.TotalSeconds:0} s", args);
            code = task.Result;
        }
        catch (Exception e)
        {
            return new CaseResult(target, caseName, Outcome.Other, -1, "escaped: " + e.GetBaseException().GetType().Name + ": " + e.GetBaseException().Message, args);
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
        return Classify(target, caseName, args, mustName, code, stderr.ToString());
    }

    /// <summary>
    /// Runs `dotnet cedm.dll args` as a child process, killed with its tree after <paramref name="limit"/>: command
    /// lines may start real work (a valid value trains), and a runaway in-process case would starve every later case.
    /// </summary>
    public static CaseResult RunProcess(string target, string caseName, string[] args, IReadOnlyList<string> mustName, TimeSpan limit)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cedm.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CEDM_THREADS"] = "1";
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        var @out = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            return new CaseResult(target, caseName, Outcome.Other, -1, $"no exit within {limit.TotalSeconds:0} s", args);
        }
        p.WaitForExit();
        _ = @out.Result;
        return Classify(target, caseName, args, mustName, p.ExitCode, err.Result);
    }

    private static CaseResult Classify(string target, string caseName, string[] args, IReadOnlyList<string> mustName, int code, string stderrText)
    {
        // A warning line before the error (e.g. the engine's) is not part of the error.
        string err = string.Join('\n', stderrText.TrimEnd().Split('\n').Where(l => !l.StartsWith("cedm: ", StringComparison.Ordinal)));
        if (code == 0) return new CaseResult(target, caseName, Outcome.Accepted, 0, "", args);
        string[] lines = err.Split('\n');
        string first = lines[0];
        if (code != 2) return new CaseResult(target, caseName, Outcome.Other, code, $"exit {code}: {first}", args);
        if (lines.Length != 1) return new CaseResult(target, caseName, Outcome.Other, code, $"{lines.Length} lines: {first}", args);
        if (!first.StartsWith("error: ", StringComparison.Ordinal)) return new CaseResult(target, caseName, Outcome.Other, code, "no error: prefix: " + first, args);
        if (!mustName.Any(m => first.Contains(m, StringComparison.Ordinal))) return new CaseResult(target, caseName, Outcome.Other, code, $"does not name {string.Join(" or ", mustName)}: {first}", args);
        if (first.Any(c => char.IsControl(c) && c != '\t')) return new CaseResult(target, caseName, Outcome.Other, code, "control characters in the message", args);
        return new CaseResult(target, caseName, Outcome.Named, code, first, args);
    }
}
