using System.Globalization;
using System.Text.Json.Nodes;
using Cedm.Diffusion.Training;
using Cedm.Pipeline;

namespace Cedm.Cli.Pipeline;

/// <summary>
/// The steps of `cedm run`: each is the cedm command a user would type, writing into a sub-folder of the run
/// (features/, bound/, clusters/, train/, samples/, eval/), then the report. See docs/pipeline.md.
/// </summary>
public static class RunSteps
{
    public const string Features = "features/feats.npy", Bound = "bound/bound.json", Clusters = "clusters", Train = "train",
        ClusterSheet = "samples/per_cluster.npy", Samples = "samples/samples.npy", Metrics = "eval/metrics.json", Report = "report.html";

    public static IReadOnlyList<IPipelineStep> For(RunOptions o)
    {
        string seed = o.Seed.ToString(CultureInfo.InvariantCulture);
        var steps = new List<IPipelineStep>
        {
            new CommandStep("features", $"features ({o.Features})", 1, c =>
                ["features", o.Source, "--extractor", o.Features, "--out", c.PathOf(Features), "--seed", seed, "--force"]),
        };
        if (o.K is null)
            steps.Add(new CommandStep("bound", $"upper cluster bound K_UB (TEMI, K ≤ {o.MaxK})", o.Quick ? 3 : 4, c =>
                [
                    "bound", c.PathOf(Features), "--out", c.PathOf(Bound), "--max-k", I(o.MaxK), "--max-n", I(o.BoundRows), "--seed", seed, "--force",
                    .. Epochs(o),
                ],
                c => new JsonObject { ["k_ub"] = ChosenK(c, o) }));
        steps.Add(new CommandStep("clusters", $"clustering ({o.Method})", 1, c =>
            [
                "cluster", c.PathOf(Features), "--method", o.Method, "--k", I(ChosenK(c, o)), "--out", c.PathOf(Clusters), "--seed", seed, "--force",
                // The same TEMI settings as the bound search (the cpu preset), so K_UB and the clustering agree.
                .. o.Method == "temi" ? ["--preset", "cpu", .. Epochs(o)] : Array.Empty<string>(),
            ],
            c => new JsonObject { ["k"] = ChosenK(c, o) }));
        steps.Add(new CommandStep("train", $"training C-EDM ({o.Preset}, {o.TrainMinutes:0.#} min)", o.Quick ? 4 : 12, c => TrainArguments(c, o, seed)));
        steps.Add(new CommandStep("samples", "samples for every cluster", 1, c =>
            ["sample", c.PathOf(Train), "--cluster", "all", "--n", I(o.SamplesPerCluster), "--steps", I(o.SamplerSteps), "--out", c.PathOf(ClusterSheet), "--force"]));
        steps.Add(new CommandStep("eval-samples", $"{o.EvalSamples} samples for the metrics", o.Quick ? 1 : 2, c =>
            ["sample", c.PathOf(Train), "--n", I(o.EvalSamples), "--steps", I(o.SamplerSteps), "--out", c.PathOf(Samples), "--grid", c.PathOf("samples/samples.png"), "--force"]));
        steps.Add(new CommandStep("eval", "evaluation", 1, c =>
            [
                "eval", o.Source, c.PathOf(Samples), "--out", c.PathOf(Metrics), "--clusters", c.PathOf(Clusters),
                "--sample-clusters", c.PathOf("samples/samples_clusters.npy"), "--seed", seed,
                .. o.Evaluator is null ? Array.Empty<string>() : ["--evaluator", o.Evaluator],
                .. o.Quick ? ["--kid-subsets", "10", "--kid-subset-size", "100"] : Array.Empty<string>(),
            ]));
        steps.Add(new RunReportStep(o));
        return steps;
    }

    private static string[] Epochs(RunOptions o) => o.TemiEpochs is int e ? ["--epochs", I(e)] : [];

    /// <summary>K_UB from bound.json (capped at MaxK), or the user's --k.</summary>
    public static int ChosenK(RunContext c, RunOptions o)
    {
        if (o.K is int k) return k;
        var bound = JsonNode.Parse(File.ReadAllText(c.PathOf(Bound)))!;
        return Math.Clamp(bound["k_ub"]!.GetValue<int>(), 1, o.MaxK);
    }

    /// <summary>
    /// A fresh run, or a resume with the minutes left of the budget when an earlier invocation was interrupted
    /// (the checkpoint pointer records the seconds trained so far).
    /// </summary>
    private static string[] TrainArguments(RunContext c, RunOptions o, string seed)
    {
        string dir = c.PathOf(Train);
        var latest = Checkpoint.Latest(dir);
        if (latest is { } l)
        {
            double left = Math.Max(o.TrainMinutes - l.Seconds / 60.0, 0.01);
            return ["train", o.Source, "--out", dir, "--resume", "--minutes", left.ToString("0.###", CultureInfo.InvariantCulture)];
        }
        return
        [
            "train", o.Source, "--cond", "clusters:" + c.PathOf(Clusters), "--out", dir, "--preset", o.Preset,
            "--minutes", o.TrainMinutes.ToString("0.###", CultureInfo.InvariantCulture), "--seed", seed, "--force",
            // A CPU budget sees tens of kimg, not EDM's 200 Mimg: warm the learning rate up over the first 1 kimg.
            "--lr-rampup-kimg", "1",
            .. o.Quick ? ["--checkpoint-kimg", "0.5", "--log-kimg", "0.1"] : Array.Empty<string>(),
        ];
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
