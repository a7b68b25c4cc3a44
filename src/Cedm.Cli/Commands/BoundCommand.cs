using System.CommandLine;
using System.Globalization;
using Cedm.Clustering;
using Cedm.Clustering.Bounds;
using Cedm.Stages;

namespace Cedm.Cli.Commands;

/// <summary>`cedm bound &lt;feats.npy&gt; --out bound.json`: the TEMI utilisation-ratio upper bound K_UB (spec §5.2, cli.md), <see cref="BoundStage"/>.</summary>
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
        var whiten = new Option<int?>("--whiten") { Description = "TEMI input: centre and PCA-whiten the features to this many dimensions (at most D) before the kNN and the heads; 0 = the raw features of spec 4.1 (TEMI collapses on uncentred ones such as resnet18's). Default 64." };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var maxN = new Option<int?>("--max-n") { Description = "Search on at most this many rows, drawn at random with --seed (TEMI time grows linearly with N; the utilisation ratio at K << N barely moves). Default: all rows." };
        var cmd = new Command("bound", "Upper cluster bound K_UB by the TEMI utilisation-ratio search (doubling on K, then a grid).")
        {
            features, output, threshold, k0, maxK, perCluster, budget, grid, lower, lowerK, preset, epochs, whiten, maxN, seed, force, json,
        };
        cmd.SetAction(parse =>
        {
            var options = new BoundOptions
            {
                Threshold = parse.GetValue(threshold), K0 = parse.GetValue(k0), MaxK = parse.GetValue(maxK) ?? int.MaxValue, GridPoints = parse.GetValue(grid),
                MinRowsPerCluster = parse.GetValue(perCluster), TimeBudgetSeconds = parse.GetValue(budget) * 60,
                Lower = parse.GetValue(lower), LowerK = parse.GetValue(lowerK), Seed = parse.GetValue(seed),
                Temi = ClusteringMethods.TemiPreset(parse.GetValue(preset)!, epochs: parse.GetValue(epochs), whiten: parse.GetValue(whiten)),
            };
            var request = new BoundRequest { Features = parse.GetValue(features)!, Out = parse.GetValue(output)!, Options = options, MaxRows = parse.GetValue(maxN), Force = parse.GetValue(force) };
            request.Validate();
            var w = parse.InvocationConfiguration.Output;
            bool asJson = parse.GetValue(json);
            TextWriter? table = asJson ? null : w;
            void PrintRow(BoundRow r) => table?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Phase,-7} K={r.K,5}  used={r.Utilized,5}  ratio={r.Ratio:F3}  {(r.Phase == "lower" ? "(beta=1)" : r.Ratio >= options.Threshold ? "pass" : "fail")}  {r.Seconds:F1} s"));
            void PrintStart(BoundStart s)
            {
                table?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"bound search on {s.Rows} x {s.Dimension} features, tau {options.Threshold}, K0 {options.K0}, {options.Temi.Heads} heads x {options.Temi.Epochs} epochs"));
                table?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"caps: data K <= {Math.Max(1, s.DataRows / options.MinRowsPerCluster)} ({s.DataRows} rows / {options.MinRowsPerCluster} per cluster), time budget {(options.TimeBudgetSeconds > 0 ? $"{options.TimeBudgetSeconds:F0} s" : "none")}{(options.MaxK < int.MaxValue ? $", --max-k {options.MaxK}" : "")}"));
            }
            var (result, rows, _) = ProgressDisplay.Run("TEMI", parse.InvocationConfiguration.Error, observer => BoundStage.Run(request, observer, PrintRow, PrintStart));
            if (asJson) w.WriteLine(BoundFile.ToJson(result, options, rows).ToJsonString());
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
                w.WriteLine(FormattableString.Invariant($"K_UB = {result.KUpper} (tau {result.Threshold}{capped}){lowerText}; {runs} TEMI runs in {result.TotalSeconds:F1} s; wrote {request.Out}"));
            }
            return 0;
        });
        return cmd;
    }
}
