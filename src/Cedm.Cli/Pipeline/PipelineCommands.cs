using System.Globalization;
using Cedm.Diffusion.Training;

namespace Cedm.Cli.Pipeline;

/// <summary>How long a pipeline trains: wall-clock minutes (`cedm run`) or training images (`cedm study`).</summary>
public abstract record TrainBudget
{
    private TrainBudget() { }

    /// <summary>Minutes summed over resumed invocations: a resume gets the minutes left.</summary>
    public sealed record Minutes(double Value) : TrainBudget;

    /// <summary>Thousands of training images in total (absolute: a resume stops at the same total).</summary>
    public sealed record Kimg(double Value) : TrainBudget;
}

/// <summary>
/// The command lines of the pipeline steps shared by `cedm run` and `cedm study`: the same features, bound, cluster,
/// train, sample and eval invocations, so both pipelines compute the same things the same way and a user can re-run
/// any step by hand from the logged line.
/// </summary>
public static class PipelineCommands
{
    public static string[] Features(string source, string extractor, string output, int seed) =>
        ["features", source, "--extractor", extractor, "--out", output, "--seed", I(seed), "--force"];

    /// <summary>`cedm bound`; a cap below the search's first K (10) starts the doubling at the cap instead.</summary>
    public static string[] Bound(string features, string output, int maxK, int maxRows, int? temiEpochs, int seed) =>
    [
        "bound", features, "--out", output, "--max-k", I(maxK), "--max-n", I(maxRows), "--seed", I(seed), "--force", .. Epochs(temiEpochs),
        .. maxK < 10 ? ["--k0", I(maxK)] : Array.Empty<string>(),
    ];

    public static string[] Cluster(string features, string method, int k, string output, int? temiEpochs, int seed) =>
    [
        "cluster", features, "--method", method, "--k", I(k), "--out", output, "--seed", I(seed), "--force",
        // The same TEMI settings as the bound search (the cpu preset), so K_UB and the clustering agree.
        .. method == "temi" ? ["--preset", "cpu", .. Epochs(temiEpochs)] : Array.Empty<string>(),
    ];

    /// <summary>
    /// A fresh `cedm train` in <paramref name="dir"/>, or `--resume` from its latest checkpoint when an earlier
    /// invocation was interrupted (minutes: the minutes left, from the seconds the checkpoint pointer records;
    /// kimg: the same total). <paramref name="extra"/> goes to a fresh run only (a resume keeps the saved options).
    /// </summary>
    public static string[] Train(string dir, string source, string cond, string preset, TrainBudget budget, int seed, IEnumerable<string> extra)
    {
        var latest = Checkpoint.Latest(dir);
        string[] limit = budget switch
        {
            TrainBudget.Minutes m when latest is { } l => ["--minutes", D(Math.Max(m.Value - l.Seconds / 60.0, 0.01))],
            TrainBudget.Minutes m => ["--minutes", D(m.Value)],
            TrainBudget.Kimg k => ["--kimg", D(k.Value)],
            _ => throw new ArgumentOutOfRangeException(nameof(budget)),
        };
        if (latest is not null) return ["train", source, "--out", dir, "--resume", .. limit];
        return
        [
            "train", source, "--cond", cond, "--out", dir, "--preset", preset, .. limit, "--seed", I(seed), "--force",
            .. CpuRecipe,
            .. extra,
        ];
    }

    /// <summary>
    /// Training settings for a CPU budget of tens of kimg instead of EDM's 200 Mimg (docs/pipeline.md, "Training
    /// recipe"): the learning rate warms up over the first 1 kimg, the blocks run without dropout (a regulariser
    /// for runs that see each image hundreds of times; ours sees it less than once) and Adam's rate is twice EDM's.
    /// At 8 kimg with label conditioning this took FD_fmnist from 78.8 (EDM's dropout 0.1 and lr 1e-3, padded to
    /// 32×32) to 57.3 (no dropout, lr 2e-3, native 28×28).
    /// </summary>
    public static readonly string[] CpuRecipe = ["--lr-rampup-kimg", "1", "--dropout", "0", "--lr", "2e-3"];

    public static string[] Sample(string run, int n, int steps, string output, string? grid, IEnumerable<string> extra) =>
        ["sample", run, "--n", I(n), "--steps", I(steps), "--out", output, .. grid is null ? Array.Empty<string>() : ["--grid", grid], "--force", .. extra];

    /// <summary>`cedm eval`; quick budgets use fewer KID subsets (a few hundred samples cannot fill torch-fidelity's 100×1000).</summary>
    public static string[] Eval(string source, string samples, string output, string? evaluator, bool quick, int seed, IEnumerable<string> extra) =>
    [
        "eval", source, samples, "--out", output, .. extra, "--seed", I(seed),
        .. evaluator is null ? Array.Empty<string>() : ["--evaluator", evaluator],
        .. quick ? ["--kid-subsets", "10", "--kid-subset-size", "100"] : Array.Empty<string>(),
    ];

    private static string[] Epochs(int? e) => e is int v ? ["--epochs", I(v)] : [];

    public static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static string D(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
