using System.Text.Json.Nodes;
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
        var steps = new List<IPipelineStep>
        {
            new CommandStep("features", $"features ({o.Features})", 1, c => PipelineCommands.Features(o.Source, o.Features, c.PathOf(Features), o.Seed)),
        };
        if (o.K is null)
            steps.Add(new CommandStep("bound", $"upper cluster bound K_UB (TEMI, K ≤ {o.MaxK})", o.Quick ? 3 : 4,
                c => PipelineCommands.Bound(c.PathOf(Features), c.PathOf(Bound), o.MaxK, o.BoundRows, o.TemiEpochs, o.Seed),
                c => new JsonObject { ["k_ub"] = ChosenK(c, o) }));
        steps.Add(new CommandStep("clusters", $"clustering ({o.Method})", 1,
            c => PipelineCommands.Cluster(c.PathOf(Features), o.Method, ChosenK(c, o), c.PathOf(Clusters), o.TemiEpochs, o.Seed),
            c => new JsonObject { ["k"] = ChosenK(c, o) }));
        steps.Add(new CommandStep("train", $"training C-EDM ({o.Preset}, {o.TrainMinutes:0.#} min)", o.Quick ? 4 : 15, c =>
            PipelineCommands.Train(c.PathOf(Train), o.Source, "clusters:" + c.PathOf(Clusters), o.Preset, new TrainBudget.Minutes(o.TrainMinutes), o.Seed,
                o.Quick ? ["--checkpoint-kimg", "0.5", "--log-kimg", "0.1"] : [])));
        steps.Add(new CommandStep("samples", "samples for every cluster", 1, c =>
            PipelineCommands.Sample(c.PathOf(Train), o.SamplesPerCluster, o.SamplerSteps, c.PathOf(ClusterSheet), null, ["--cluster", "all"])));
        steps.Add(new CommandStep("eval-samples", $"{o.EvalSamples} samples for the metrics", o.Quick ? 1 : 2, c =>
            PipelineCommands.Sample(c.PathOf(Train), o.EvalSamples, o.SamplerSteps, c.PathOf(Samples), c.PathOf("samples/samples.png"), [])));
        steps.Add(new CommandStep("eval", "evaluation", 1, c =>
            PipelineCommands.Eval(o.Source, c.PathOf(Samples), c.PathOf(Metrics), o.Evaluator, o.Quick, o.Seed,
                ["--clusters", c.PathOf(Clusters), "--sample-clusters", c.PathOf("samples/samples_clusters.npy")])));
        steps.Add(new RunReportStep(o));
        return steps;
    }

    /// <summary>K_UB from bound.json (capped at MaxK), or the user's --k.</summary>
    public static int ChosenK(RunContext c, RunOptions o)
    {
        if (o.K is int k) return k;
        var bound = JsonNode.Parse(File.ReadAllText(c.PathOf(Bound)))!;
        return Math.Clamp(bound["k_ub"]!.GetValue<int>(), 1, o.MaxK);
    }
}
