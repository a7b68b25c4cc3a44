using System.Text.Json.Nodes;
using Cedm.Clustering;
using Cedm.Clustering.Bounds;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using Cedm.Stages;

namespace Cedm.Pipeline;

/// <summary>
/// The stage calls shared by `cedm run` and `cedm study`: each builds the typed request, the equivalent command line
/// from the same request (<see cref="CommandLines"/>), and the call of the stage service, so both pipelines compute
/// the same things the same way.
/// </summary>
public static class PipelineStages
{
    public static StageCall Features(string source, string extractor, string output, int seed)
    {
        var r = new FeatureRequest { Source = source, Extractor = extractor, Out = output, Seed = seed, Force = true };
        return new StageCall(CommandLines.Features(r), o => { FeatureStage.Run(r, o); return null; });
    }

    /// <summary>
    /// The bound search with the cpu TEMI preset within <paramref name="budgetMinutes"/>; an explicit cap below the
    /// doubling's first K (10) starts the doubling at the cap instead.
    /// </summary>
    public static StageCall Bound(string features, string output, int? maxK, int maxRows, int? temiEpochs, int seed, double budgetMinutes)
    {
        var options = new BoundOptions
        {
            MaxK = maxK ?? int.MaxValue, Seed = seed, Temi = ClusteringMethods.TemiPreset("cpu", epochs: temiEpochs), TimeBudgetSeconds = budgetMinutes * 60,
        };
        if (maxK is int cap && cap < options.K0) options = options with { K0 = cap };
        var r = new BoundRequest { Features = features, Out = output, Options = options, MaxRows = maxRows, Force = true };
        return new StageCall(CommandLines.Bound(r, temiEpochs), o => new JsonObject { ["k_ub"] = BoundStage.Run(r, o).Result.KUpper });
    }

    /// <summary>A clustering at K; TEMI with the same cpu preset as the bound search, so K_UB and the clustering agree.</summary>
    public static StageCall Cluster(string features, string method, int k, string output, int? temiEpochs, int seed, string? treeEpochs = null)
    {
        var settings = new ClusteringSettings
        {
            Method = method, K = k, Temi = method == "temi" ? ClusteringMethods.TemiPreset("cpu", epochs: temiEpochs) : null,
            TreeVae = method == "treevae" ? Clustering.TreeVae.TreeVaeOptions.Create("cpu", k, treeEpochs) : null,
        };
        var r = new ClusteringRequest { Features = features, Settings = settings, Out = output, Seed = seed, Force = true };
        return new StageCall(CommandLines.Cluster(r, temiEpochs, treeEpochs), o => new JsonObject { ["k"] = k, ["utilized"] = ClusterStage.Run(r, o).Assignment.Utilized });
    }

    /// <summary>
    /// Training settings for a CPU budget of tens of kimg instead of EDM's 200 Mimg (docs/pipeline.md, "Training
    /// recipe"): the learning rate warms up over the first 1 kimg, the blocks run without dropout (a regulariser
    /// for runs that see each image hundreds of times; ours sees it less than once) and Adam's rate is twice EDM's.
    /// At 8 kimg with label conditioning this took FD_fmnist from 78.8 (EDM's dropout 0.1 and lr 1e-3, padded to
    /// 32×32) to 57.3 (no dropout, lr 2e-3, native 28×28).
    /// </summary>
    public static TrainingOptions CpuRecipe(string preset, int seed) =>
        new() { Preset = preset, Seed = seed, LrRampupKimg = 1, Dropout = 0, Lr = 2e-3 };

    /// <summary>
    /// A fresh training run, or the continuation of the one an interrupted invocation left (<see cref="TrainStage.CreateOrContinue"/>);
    /// the command line is the one of whichever happens.
    /// </summary>
    public static StageCall Train(TrainRequest request, TrainBudget budget)
    {
        string[] line = TrainStage.Continuation(request.Out, budget) is { } resume
            ? CommandLines.Resume(resume, request.Source)
            : CommandLines.Train(TrainStage.Fresh(request, budget));
        return new StageCall(line, o =>
        {
            var (summary, _) = TrainStage.CreateOrContinue(request, budget).Train(o);
            return new JsonObject { ["kimg"] = summary.CurNimg / 1000.0, ["stopped_by"] = summary.StoppedBy };
        });
    }

    /// <summary>Samples seeds 0..n−1 of a run.</summary>
    public static StageCall Sample(string run, int n, SamplerOptions sampler, string output, string? grid, string cluster = "p",
        double? coherence = null, string? checkpoint = null)
    {
        var r = new SampleRequest
        {
            Run = run, Seeds = Enumerable.Range(0, n).Select(i => (long)i).ToArray(), Cluster = cluster,
            Sampler = sampler, Coherence = coherence, Checkpoint = checkpoint,
            Out = output, Grid = grid, Force = true,
        };
        return new StageCall(CommandLines.Sample(r), o => { SampleStage.Run(r, o); return null; });
    }

    /// <summary>Evaluation; quick budgets use fewer KID subsets (a few hundred samples cannot fill torch-fidelity's 100×1000).</summary>
    public static StageCall Eval(string source, string samples, string output, string? evaluator, bool quick, int seed, string? clusters = null, string? sampleClusters = null,
        string? trainSource = null)
    {
        var r = new EvalRequest
        {
            Real = source, Samples = samples, Out = output, Force = true, Evaluator = evaluator, Seed = seed, Clusters = clusters, SampleClusters = sampleClusters,
            TrainSource = trainSource,
        };
        if (quick) r = r with { KidSubsets = 10, KidSubsetSize = 100 };
        return new StageCall(CommandLines.Eval(r), o => new JsonObject { ["fd"] = EvalStage.Run(r, o).Fd });
    }
}
