using Cedm.Clustering.Bounds;
using Cedm.Diffusion.Sampling;
using Cedm.Stages;

namespace Cedm.Pipeline;

/// <summary>
/// The steps of `cedm run`: each calls one stage service, writing into a sub-folder of the run (features/, bound/,
/// clusters/, train/, samples/, eval/) what the equivalent cedm command would, then the report. See docs/pipeline.md.
/// </summary>
public static class MainJobPlan
{
    public const string Features = "features/feats.npy", Bound = "bound/bound.json", Clusters = "clusters", Train = "train",
        ClusterSheet = "samples/per_cluster.npy", Samples = "samples/samples.npy", Metrics = "eval/metrics.json",
        Novelty = "eval/novelty.json", ByDepth = "samples/by_depth.npy", ByDepthGrid = "samples/by_depth.png", Report = "report.html";

    /// <summary>Seeds (columns) of the samples-by-depth picture.</summary>
    public const int ByDepthSeeds = 8;

    public static IReadOnlyList<IPipelineStep> For(MainJobOptions o)
    {
        var steps = new List<IPipelineStep>
        {
            new StageStep("features", $"features ({o.Features})", 1, c => PipelineStages.Features(o.Source, o.Features, c.PathOf(Features), o.Seed)),
        };
        if (o.K is null)
            steps.Add(new StageStep("bound", $"upper cluster bound K_UB (TEMI{(o.MaxK is int cap ? $", K ≤ {cap}" : "")}, ≤ {o.BoundMinutes:0.#} min)", o.Quick ? 3 : 4,
                c => PipelineStages.Bound(c.PathOf(Features), c.PathOf(Bound), o.MaxK, o.BoundRows, o.TemiEpochs, o.Seed, o.BoundMinutes)));
        steps.Add(new StageStep("clusters", $"clustering ({o.Method})", 1,
            // TreeVAE clusters the images themselves; every other method the features.
            c => PipelineStages.Cluster(Clustering.ClusteringMethods.TakesImages(o.Method) ? o.Source : c.PathOf(Features), o.Method, ChosenK(c, o),
                c.PathOf(Clusters), o.TemiEpochs, o.Seed, o.TreeEpochs)));
        steps.Add(new StageStep("train", $"training C-EDM ({o.Preset}, {o.TrainMinutes:0.#} min)", o.Quick ? 4 : 15, c =>
        {
            var training = PipelineStages.CpuRecipe(o.Preset, o.Seed);
            if (o.Quick) training = training with { CheckpointKimg = 0.5, LogKimg = 0.1 };
            var request = new TrainRequest { Source = o.Source, Cond = (o.ConditionsOnPaths() ? "tree:" : "clusters:") + c.PathOf(Clusters), Out = c.PathOf(Train), Training = training };
            return PipelineStages.Train(request, new TrainBudget.Minutes(o.TrainMinutes));
        }));
        steps.Add(new StageStep("samples", "samples for every cluster", 1, c =>
            PipelineStages.Sample(c.PathOf(Train), o.SamplesPerCluster, Sampler(o), c.PathOf(ClusterSheet), null, cluster: "all")));
        if (o.ConditionsOnPaths())
            steps.Add(new StageStep("by-depth", "samples by depth (root to the deepest leaf)", 1, c =>
                PipelineStages.Sample(c.PathOf(Train), ByDepthSeeds, Sampler(o), c.PathOf(ByDepth), c.PathOf(ByDepthGrid), cluster: $"path:{DeepestCluster(c.PathOf(Clusters))}")));
        steps.Add(new StageStep("eval-samples", $"{o.EvalSamples} samples for the metrics", o.Quick ? 1 : 2, c =>
            PipelineStages.Sample(c.PathOf(Train), o.EvalSamples, Sampler(o), c.PathOf(Samples), c.PathOf("samples/samples.png"))));
        steps.Add(new StageStep("eval", "evaluation", 1, c =>
            PipelineStages.Eval(o.Source, c.PathOf(Samples), c.PathOf(Metrics), o.Evaluator, o.Quick, o.Seed, c.PathOf(Clusters), c.PathOf("samples/samples_clusters.npy"))));
        // Novelty needs images the model never saw: the source's test split, when it has one (a --quick run trains on it).
        if (Data.DataSource.Parse(o.Source).HeldOut is string heldOut)
            steps.Add(new StageStep("memorisation", $"memorisation check (samples' nearest images of {o.Source})", 1, c =>
                PipelineStages.Eval(heldOut, c.PathOf(Samples), c.PathOf(Novelty), o.Evaluator, o.Quick, o.Seed, trainSource: o.Source)));
        steps.Add(new MainJobReportStep(o));
        return steps;
    }

    /// <summary>
    /// The cluster whose leaf lies deepest in the clustering folder's tree (of those with images; the larger on a tie):
    /// its root path shows the most levels in the samples-by-depth picture.
    /// </summary>
    public static long DeepestCluster(string clustersDir)
    {
        var assignment = Clustering.ClusterAssignment.Load(clustersDir);
        var tree = ConditionSources.LoadTree(clustersDir, ConditionSources.FromAssignment(assignment, clustersDir));
        return Enumerable.Range(0, assignment.K).Where(id => assignment.Sizes[id] > 0)
            .OrderByDescending(id => tree.Depth(tree.LeafOfCluster[id])).ThenByDescending(id => assignment.Sizes[id]).ThenBy(id => id).First();
    }

    private static SamplerOptions Sampler(MainJobOptions o) => new() { Steps = o.SamplerSteps, Solver = o.SamplerSolver };

    /// <summary>The user's --k, or the conditioning K the documented rule takes from the bound (capped at MaxK when given).</summary>
    public static int ChosenK(PipelineFolder c, MainJobOptions o)
    {
        if (o.K is int k) return k;
        var bound = BoundFile.Load(c.PathOf(Bound));
        int rows = bound.DataRows > 0 ? bound.DataRows : bound.Rows;
        // K = 1 would be the unconditional model: a short budget still conditions on two clusters when the bound allows.
        int chosen = Math.Max(BoundResult.ConditioningK(bound.KUpper, o.ExpectedTrainImages, Math.Max(rows, 1)), Math.Min(2, bound.KUpper));
        return o.MaxK is int cap ? Math.Min(chosen, cap) : chosen;
    }
}
