using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.Clustering.Bounds;
using Cedm.Clustering.Temi;
using Cedm.IO;
using Spectre.Console;

namespace Cedm.Cli.Commands;

/// <summary>`cedm bound <feats.npy> --out bound.json`: the TEMI utilisation-ratio upper bound K_UB (spec §5.2, cli.md).</summary>
public static class BoundCommand
{
    public static Command Build()
    {
        var features = new Argument<string>("features") { Description = "Features .npy (float32/float64, N x D)." };
        var output = new Option<string>("--out") { Description = "The JSON file to write (k_ub, threshold, table, and k_lb with --lower).", Required = true };
        var threshold = new Option<double>("--threshold") { Description = "Utilisation threshold tau: K passes when K_used/K >= tau (our default from blobs with known K; see BoundOptions).", DefaultValueFactory = _ => BoundOptions.DefaultThreshold };
        var k0 = new Option<int>("--k0") { Description = "First K of the doubling search (halves instead if it already fails).", DefaultValueFactory = _ => 10 };
        var maxK = new Option<int?>("--max-k") { Description = "An explicit cap on K (default: none; the data cap and the time budget stop the search)." };
        var perCluster = new Option<int>("--min-per-cluster") { Description = "Data cap: no K above N / this is tried (rows per cluster on average; N = all rows of the file, also with --max-n).", DefaultValueFactory = _ => 50 };
        var budget = new Option<double>("--budget-minutes") { Description = "Time budget of the whole search (0 = none): no TEMI run starts that would end past it, by the slowest run so far.", DefaultValueFactory = _ => 10 };
        var grid = new Option<int>("--grid") { Description = "K values tried between the last passing and the first failing K.", DefaultValueFactory = _ => 3 };
        var lower = new Option<bool>("--lower") { Description = "Also run beta=1 at an over-estimated K; its utilised count is the lower bound k_lb." };
        var lowerK = new Option<int>("--lower-k") { Description = "K of the --lower run (0 = 2 x K_UB).", DefaultValueFactory = _ => 0 };
        var preset = new Option<string>("--preset") { Description = "TEMI settings of every run: spec (16 heads, 100 epochs) or cpu (8 heads 64/32, 30 epochs).", DefaultValueFactory = _ => "cpu" };
        preset.AcceptOnlyFromAmong("spec", "cpu");
        var epochs = new Option<int?>("--epochs") { Description = "Override the preset's TEMI epochs." };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var maxN = new Option<int?>("--max-n") { Description = "Search on at most this many rows, drawn at random with --seed (TEMI time grows linearly with N; the utilisation ratio at K << N barely moves). Default: all rows." };
        var cmd = new Command("bound", "Upper cluster bound K_UB by the TEMI utilisation-ratio search (doubling on K, then a grid).")
        {
            features, output, threshold, k0, maxK, perCluster, budget, grid, lower, lowerK, preset, epochs, maxN, seed, force, json,
        };
        cmd.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            if (!outPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--out: expected a .json file name, got {outPath}");
            if (File.Exists(outPath) && !overwrite) throw new UsageException($"--out: {outPath} already exists; pass --force to overwrite it");
            var temi = TemiOptions.FromPreset(parse.GetValue(preset)!);
            if (parse.GetValue(epochs) is int e)
            {
                if (e < 1) throw new UsageException($"--epochs must be at least 1, got {e}");
                temi = temi with { Epochs = e, WarmupEpochs = e * temi.WarmupEpochs / temi.Epochs };
            }
            var x = ClusterCommand.ReadFeatures(parse.GetValue(features)!);
            var options = new BoundOptions
            {
                Threshold = parse.GetValue(threshold), K0 = parse.GetValue(k0), MaxK = parse.GetValue(maxK) ?? int.MaxValue, GridPoints = parse.GetValue(grid),
                MinRowsPerCluster = parse.GetValue(perCluster), TimeBudgetSeconds = parse.GetValue(budget) * 60, DataRows = x.Dim(0),
                Lower = parse.GetValue(lower), LowerK = parse.GetValue(lowerK), Temi = temi, Seed = parse.GetValue(seed),
            };
            try { options.Validate(); }
            catch (ArgumentException ex) { throw new UsageException(ex.Message, ex); }
            if (x.Dim(0) < 2) throw new UsageException($"{parse.GetValue(features)}: the bound search needs at least 2 feature rows");
            if (parse.GetValue(maxN) is int limit)
            {
                if (limit < 2) throw new UsageException($"--max-n: must be at least 2, got {limit}");
                if (limit < x.Dim(0))
                {
                    var rows = new Cedm.Tensors.Rng((ulong)parse.GetValue(seed) ^ 0x5EEDUL).Permutation(x.Dim(0)).Take(limit).Order().ToArray();
                    using (Cedm.Tensors.Autograd.GradMode.NoGrad()) x = x.IndexSelect(rows);
                }
            }

            var w = parse.InvocationConfiguration.Output;
            bool asJson = parse.GetValue(json);
            var result = RunWithProgress(options, x, asJson ? null : w);
            var doc = ToJson(result, options);
            doc["n"] = x.Dim(0);
            AtomicFile.WriteAllBytes(outPath, System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true })), overwrite);
            if (asJson) w.WriteLine(doc.ToJsonString());
            else
            {
                string capped = result.Stop switch
                {
                    BoundStop.Threshold => FormattableString.Invariant($", r < tau at K={result.Table.Where(r => r.Ratio < result.Threshold).Min(r => r.K)}{(result.Refined ? ", refined" : "")}"),
                    BoundStop.DataCap => FormattableString.Invariant($", CAPPED by the data: K <= {result.DataCapK} ({result.DataRows} rows / {options.MinRowsPerCluster} per cluster) without r < tau"),
                    BoundStop.TimeBudget => FormattableString.Invariant($", CAPPED by the time budget ({options.TimeBudgetSeconds:F0} s){(result.Crossed ? ": grid not finished" : " before r < tau")}"),
                    _ => FormattableString.Invariant($", CAPPED at --max-k {options.MaxK}"),
                };
                string lowerText = result.KLower is int lb ? FormattableString.Invariant($", K_LB = {lb} (beta=1 at K={result.LowerRun!.K})") : "";
                int runs = result.Table.Count + (result.LowerRun == null ? 0 : 1);
                w.WriteLine(FormattableString.Invariant($"K_UB = {result.KUpper} (tau {result.Threshold}{capped}){lowerText}; {runs} TEMI runs in {result.TotalSeconds:F1} s; wrote {outPath}"));
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Runs the search, printing each row as it finishes and a progress bar on a terminal.</summary>
    private static BoundResult RunWithProgress(BoundOptions options, Cedm.Tensors.Tensor x, TextWriter? table)
    {
        void PrintRow(BoundRow r) => table?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Phase,-7} K={r.K,5}  used={r.Utilized,5}  ratio={r.Ratio:F3}  {(r.Phase == "lower" ? "(beta=1)" : r.Ratio >= options.Threshold ? "pass" : "fail")}  {r.Seconds:F1} s"));
        int dataRows = options.DataRows > 0 ? options.DataRows : x.Dim(0);
        table?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bound search on {x.Dim(0)} x {x.Dim(1)} features, tau {options.Threshold}, K0 {options.K0}, {options.Temi.Heads} heads x {options.Temi.Epochs} epochs"));
        table?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"caps: data K <= {Math.Max(1, dataRows / options.MinRowsPerCluster)} ({dataRows} rows / {options.MinRowsPerCluster} per cluster), time budget {(options.TimeBudgetSeconds > 0 ? $"{options.TimeBudgetSeconds:F0} s" : "none")}{(options.MaxK < int.MaxValue ? $", --max-k {options.MaxK}" : "")}"));
        if (Console.IsErrorRedirected)
            return new ClusterBoundSearch(options) { RowFinished = PrintRow }.Run(x);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        BoundResult? result = null;
        console.Progress().AutoClear(true).Start(ctx =>
        {
            var task = ctx.AddTask("TEMI", maxValue: 1.0);
            result = new ClusterBoundSearch(options)
            {
                RowFinished = PrintRow,
                RunProgress = (k, f) => { task.Description = $"TEMI K={k}"; task.Value = f; },
            }.Run(x);
        });
        return result!;
    }

    /// <summary>
    /// bound.json: cli.md keys k_ub, threshold, table [{k, utilized, ratio}], k_lb with --lower; plus phases, timings,
    /// options, why the search stopped (stop: threshold | data | time | max-k; capped), the data cap and the time budget.
    /// </summary>
    public static JsonObject ToJson(BoundResult r, BoundOptions o)
    {
        var doc = new JsonObject
        {
            ["k_ub"] = r.KUpper,
            ["threshold"] = r.Threshold,
            ["table"] = new JsonArray(r.Table.Select(row => (JsonNode)new JsonObject
            {
                ["k"] = row.K, ["utilized"] = row.Utilized, ["ratio"] = row.Ratio, ["phase"] = row.Phase, ["seconds"] = Math.Round(row.Seconds, 3),
            }).ToArray()),
            ["stop"] = r.Stop,
            ["capped"] = r.Capped,
            ["crossed"] = r.Crossed,
            ["refined"] = r.Refined,
            ["capped_at_max_k"] = r.CappedAtMaxK,
            ["data_cap_k"] = r.DataCapK,
            ["min_rows_per_cluster"] = o.MinRowsPerCluster,
            ["rows"] = r.Rows,
            ["data_rows"] = r.DataRows,
            ["time_budget_seconds"] = r.TimeBudgetSeconds,
            ["knn_seconds"] = Math.Round(r.KnnSeconds, 3),
            ["total_seconds"] = Math.Round(r.TotalSeconds, 3),
            ["options"] = JsonSerializer.SerializeToNode(o),
        };
        if (r.KLower is int lb)
        {
            doc["k_lb"] = lb;
            doc["lower_run"] = new JsonObject { ["k"] = r.LowerRun!.K, ["utilized"] = r.LowerRun.Utilized, ["ratio"] = r.LowerRun.Ratio, ["beta"] = 1.0 };
        }
        return doc;
    }
}
