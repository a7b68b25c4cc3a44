using System.Globalization;
using System.Text.Json;
using Cedm.Tensors;

namespace Cedm.Fuzz;

/// <summary>
/// `tools/fuzz/run.sh [--cases N] [--seed S] [--only target|files|cli] [--minutes M] [--report file.json] [--keep dir]`:
/// mutates every seed file of every target N times, runs the command that reads it in-process, and counts the
/// outcomes (README.md). Exit 0 when no case ended in "other", else 1 (the cases are listed and kept).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        int cases = 40, seed = 1;
        double minutes = 30, timeout = 20;
        string? only = null, report = null, keep = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--cases": cases = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--only": only = Next(); break;
                case "--minutes": minutes = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--timeout": timeout = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--report": report = Next(); break;
                case "--keep": keep = Next(); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}; see tools/fuzz/README.md"); return 2;
            }
        }

        string work = Directory.CreateTempSubdirectory("cedm-fuzz-").FullName;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = new List<CaseResult>();
        var limit = TimeSpan.FromSeconds(timeout);
        try
        {
            var ws = new Workspace(Path.Combine(work, "seeds"));
            Console.WriteLine($"set-up: {clock.Elapsed.TotalSeconds:0.0} s");
            int caseNo = 0;
            foreach (var target in ws.Targets().Where(t => only is null or "files" || t.Name == only))
            {
                var rng = new Rng((ulong)(seed * 1000 + target.Name.Length));
                foreach (var (seedName, data) in target.Seeds)
                    for (int m = 0; m < cases && clock.Elapsed.TotalMinutes < minutes; m++)
                    {
                        string dir = Path.Combine(work, $"case{++caseNo}");
                        Directory.CreateDirectory(dir);
                        var (mutated, kind) = Mutator.Mutate(data, rng);
                        var placed = target.Place(dir, mutated, seedName);
                        var r = CaseRunner.Run(target.Name, $"{seedName}#{m} {kind}", placed.Args, [placed.MustName], limit, placed.Env);
                        results.Add(r);
                        if (r.Outcome == Outcome.Other && keep is not null)
                        {
                            Directory.CreateDirectory(keep);
                            File.WriteAllBytes(Path.Combine(keep, $"{target.Name}-{seedName}-{m}-{kind}.bin"), mutated);
                        }
                        TryDelete(dir);
                    }
            }
            if (only is null or "cli")
            {
                string dir = Path.Combine(work, "cli");
                foreach (var (name, cliArgs, must) in CommandLines.Cases(ws, dir))
                {
                    if (clock.Elapsed.TotalMinutes >= minutes) break;
                    Directory.CreateDirectory(dir);
                    results.Add(CaseRunner.RunProcess("command-line", name, cliArgs, must, limit));
                    TryDelete(dir);
                }
            }
        }
        finally
        {
            TryDelete(work);
        }

        Print(results, clock.Elapsed.TotalSeconds);
        if (report is not null)
            File.WriteAllText(report, JsonSerializer.Serialize(new
            {
                seed, cases, seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
                targets = results.GroupBy(r => r.Target).Select(g => new
                {
                    name = g.Key, total = g.Count(), named = g.Count(r => r.Outcome == Outcome.Named),
                    accepted = g.Count(r => r.Outcome == Outcome.Accepted), other = g.Count(r => r.Outcome == Outcome.Other),
                }),
                others = results.Where(r => r.Outcome == Outcome.Other).Select(r => new { r.Target, r.Case, r.Code, r.Detail, r.Args }),
            }, new JsonSerializerOptions { WriteIndented = true }));
        return results.Any(r => r.Outcome == Outcome.Other) ? 1 : 0;
    }

    private static void Print(List<CaseResult> results, double seconds)
    {
        Console.WriteLine($"{"target",-24} {"cases",6} {"exit 2 named",13} {"accepted",9} {"other",6}");
        foreach (var g in results.GroupBy(r => r.Target))
            Console.WriteLine($"{g.Key,-24} {g.Count(),6} {g.Count(r => r.Outcome == Outcome.Named),13} {g.Count(r => r.Outcome == Outcome.Accepted),9} {g.Count(r => r.Outcome == Outcome.Other),6}");
        var files = results.Where(r => r.Target != "command-line").ToList();
        Console.WriteLine($"{"files, all formats",-24} {files.Count,6} {files.Count(r => r.Outcome == Outcome.Named),13} {files.Count(r => r.Outcome == Outcome.Accepted),9} {files.Count(r => r.Outcome == Outcome.Other),6}");
        Console.WriteLine($"{seconds:0} s");
        foreach (var r in results.Where(r => r.Outcome == Outcome.Other).Take(60))
            Console.WriteLine($"OTHER {r.Target} [{r.Case}] {r.Detail}");
    }

    private static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
