using System.Globalization;
using Cedm.Diffusion.Training;
using Cedm.Diffusion.Sampling;
using Cedm.Stages;

namespace Cedm.Pipeline.Study;

/// <summary>
/// The steps of `cedm study`, every one an ordinary cedm command (shared with `cedm run` through
/// <see cref="CommandLines"/>): features → bound → one clustering per K → per variant train, sample, eval →
/// the sample-efficiency points of the unconditional and the best-K model → tables, plots and report.html.
/// The plan is re-read after every step (<see cref="PipelineRunner"/>): the Ks come from the bound search, and
/// the best K from the evaluations. Layout: features/, bound/, clusters/k&lt;K&gt;/, variants/&lt;name&gt;/{train,
/// samples, eval, series/&lt;i&gt;}, steps/ (markers), logs/ (one log per command, its first line the command).
/// </summary>
public sealed class StudySteps(StudyOptions o, SourceFacts source)
{
    public const string Features = "features/feats.npy", Bound = "bound/bound.json", Report = "report.html";

    /// <summary>K_UB before the bound search ran: only used to estimate the remaining work.</summary>
    private int ProvisionalKub => Math.Min(20, o.MaxK ?? 20);

    public static string ClustersDir(int k) => Path.Combine("clusters", StudyVariant.ClusterName(k));

    /// <summary>The clustering a clusters variant conditions on: clusters/k&lt;K&gt;, or clusters/&lt;set&gt;-k&lt;K&gt; on other features.</summary>
    public static string ClustersDir(StudyVariant v) =>
        v.FeatureSet is null ? ClustersDir(v.K!.Value) : Path.Combine("clusters", $"{v.FeatureSet}-{StudyVariant.ClusterName(v.K!.Value)}");

    /// <summary>features-&lt;set&gt;/feats.npy: the comparison features.</summary>
    public static string OtherFeatures(string set) => Path.Combine($"features-{set}", "feats.npy");

    public static string TrainDir(StudyVariant v) => v.TrainFolder;

    public static string SamplesFile(StudyVariant v) => Path.Combine(v.Folder, "samples", "samples.npy");

    public static string MetricsFile(StudyVariant v) => Path.Combine(v.Folder, "eval", "metrics.json");

    public static string SeriesSamples(StudyVariant v, int point) => Path.Combine(v.Folder, "series", I(point), "samples.npy");

    public static string SeriesMetrics(StudyVariant v, int point) => Path.Combine(v.Folder, "series", I(point), "metrics.json");

    public static string StepName(StudyVariant v, string step) => $"variants/{v.Name}/{step}";

    /// <summary>K_UB of bound.json (capped at MaxK, as `cedm run`), or null before the bound search.</summary>
    public static int? Kub(PipelineFolder c, StudyOptions o) =>
        File.Exists(c.PathOf(Bound)) ? Math.Clamp(Clustering.Bounds.BoundFile.Load(c.PathOf(Bound)).KUpper, 1, o.MaxK ?? int.MaxValue) : null;

    /// <summary>
    /// The variants of this study (provisional until the bound search has finished; the guidance variants' K is the
    /// best plain K once every plain K is evaluated).
    /// </summary>
    public IReadOnlyList<StudyVariant> Variants(PipelineFolder c)
    {
        int kub = Kub(c, o) ?? ProvisionalKub;
        var first = StudyPlan.Variants(o, kub, source);
        return BestPlain(c, first) is { } best ? StudyPlan.Variants(o, kub, source, best.K) : first;
    }

    /// <summary>The plain cluster-conditioned variant with the lowest FD, once every plain K is evaluated; else null.</summary>
    private static StudyVariant? BestPlain(PipelineFolder c, IReadOnlyList<StudyVariant> variants)
    {
        var plain = variants.Where(v => v.Kind == VariantKind.Clusters && v.IsPlain).ToList();
        if (plain.Count == 0 || !plain.All(v => File.Exists(c.PathOf(MetricsFile(v))))) return null;
        return StudyPlan.BestK(plain.Select(v => (v, StudyResults.ReadMetric(c.PathOf(MetricsFile(v)), "fd"))));
    }

    /// <summary>The models of the sample-efficiency curve: uncond and the best plain K (provisional until every K is evaluated).</summary>
    public IReadOnlyList<StudyVariant> SeriesVariants(PipelineFolder c, IReadOnlyList<StudyVariant> variants)
    {
        var best = BestPlain(c, variants) ?? variants.FirstOrDefault(v => v.Kind == VariantKind.Clusters && v.IsPlain);
        return best is null ? [variants[0]] : [variants[0], best];
    }

    public IReadOnlyList<IPipelineStep> Plan(PipelineFolder c)
    {
        const double w = 60; // weights: estimated minutes (StudyPlan.Cost)
        var steps = new List<IPipelineStep>
        {
            new StageStep("features", $"features ({o.Features})", StudyPlan.Cost.Features(o) / w,
                ctx => PipelineStages.Features(o.Source, o.Features, ctx.PathOf(Features), o.Seed)),
            new StageStep("bound", $"upper cluster bound K_UB (TEMI{(o.MaxK is int cap ? $", K ≤ {cap}" : "")})", StudyPlan.Cost.Bound(o) / w,
                ctx => PipelineStages.Bound(ctx.PathOf(Features), ctx.PathOf(Bound), o.MaxK, o.BoundRows, o.TemiEpochs, o.Seed, o.BoundMinutes)),
        };
        var variants = Variants(c);
        foreach (int k in StudyPlan.ClusterKs(variants))
            steps.Add(new StageStep($"clusters/{StudyVariant.ClusterName(k)}", $"clustering ({o.Method}, K = {k})", StudyPlan.Cost.Cluster(o) / w,
                ctx => PipelineStages.Cluster(ctx.PathOf(Features), o.Method, k, ctx.PathOf(ClustersDir(k)), o.TemiEpochs, o.Seed)));
        foreach (var (set, k) in StudyPlan.OtherFeatureClusterings(variants))
        {
            steps.Add(new StageStep($"features-{set}", $"features ({o.CompareFeatures})", StudyPlan.Cost.Features(o) / w,
                ctx => PipelineStages.Features(o.Source, o.CompareFeatures!, ctx.PathOf(OtherFeatures(set)), o.Seed)));
            var probe = variants.First(v => v.FeatureSet == set && v.K == k);
            steps.Add(new StageStep($"clusters/{set}-{StudyVariant.ClusterName(k)}", $"clustering ({o.Method}, K = {k}, {o.CompareFeatures})", StudyPlan.Cost.Cluster(o) / w,
                ctx => PipelineStages.Cluster(ctx.PathOf(OtherFeatures(set)), o.Method, k, ctx.PathOf(ClustersDir(probe)), o.TemiEpochs, o.Seed)));
        }
        foreach (var v in variants)
        {
            if (v.TrainingOf is null)
                steps.Add(new StageStep(StepName(v, "train"), $"{v.Name}: training ({o.Kimg:0.###} kimg)", StudyPlan.Cost.Train(o) / w, ctx => TrainCall(ctx, v)));
            steps.Add(new StageStep(StepName(v, "sample"), $"{v.Name}: {o.EvalSamples} samples", StudyPlan.Cost.Sample(o) / w, ctx =>
                SampleCall(ctx, v, SamplesFile(v), ctx.PathOf(Path.ChangeExtension(SamplesFile(v), ".png")), null)));
            steps.Add(new StageStep(StepName(v, "eval"), $"{v.Name}: evaluation", StudyPlan.Cost.Eval(o) / w, ctx => EvalCall(ctx, SamplesFile(v), MetricsFile(v))));
        }
        var targets = StudyPlan.SeriesTargets(o);
        foreach (var v in SeriesVariants(c, variants))
            for (int i = 0; i < targets.Count - 1; i++) // the last point is the final model, evaluated above
            {
                int point = i;
                steps.Add(new StageStep(StepName(v, $"series-{point}-sample"), $"{v.Name}: samples at {targets[point] / 1000.0:0.###} kimg", StudyPlan.Cost.Sample(o) / w, ctx =>
                    SampleCall(ctx, v, SeriesSamples(v, point), null, SeriesCheckpoint(ctx.PathOf(TrainDir(v)), targets[point]))));
                steps.Add(new StageStep(StepName(v, $"series-{point}-eval"), $"{v.Name}: evaluation at {targets[point] / 1000.0:0.###} kimg", StudyPlan.Cost.Eval(o) / w,
                    ctx => EvalCall(ctx, SeriesSamples(v, point), SeriesMetrics(v, point))));
            }
        steps.Add(new StudyReportStep(o, source, this));
        return steps;
    }

    /// <summary>
    /// Training of a variant: a checkpoint at every sample-efficiency point (Kimg·i/n) and all of them kept, so the
    /// curve can be evaluated once the best K is known; an interrupted variant resumes from its last one.
    /// </summary>
    private StageCall TrainCall(PipelineFolder c, StudyVariant v)
    {
        string cond = v.Kind switch
        {
            VariantKind.Uncond => "none",
            VariantKind.Labels => "labels",
            _ => "clusters:" + c.PathOf(ClustersDir(v)),
        };
        var training = PipelineStages.CpuRecipe(o.Preset, o.Seed + v.SeedOffset) with { CheckpointKimg = o.Kimg / o.SeriesPoints, KeepCheckpoints = o.SeriesPoints + 1 };
        if (o.Quick) training = training with { LogKimg = Math.Max(o.Kimg / 10, 0.001) };
        var request = VariantArguments.ApplyTrain(new TrainRequest { Source = o.Source, Cond = cond, Out = c.PathOf(TrainDir(v)), Training = training }, v.TrainArgs, v.Name);
        return PipelineStages.Train(request, new TrainBudget.Kimg(o.Kimg));
    }

    private StageCall SampleCall(PipelineFolder c, StudyVariant v, string samples, string? grid, string? checkpoint)
    {
        var (sampler, coherence) = VariantArguments.ApplySample(new SamplerOptions { Steps = o.SamplerSteps, Solver = o.SamplerSolver }, v.SampleArgs, v.Name);
        return PipelineStages.Sample(c.PathOf(TrainDir(v)), o.EvalSamples, sampler, c.PathOf(samples), grid, coherence: coherence, checkpoint: checkpoint);
    }

    private StageCall EvalCall(PipelineFolder c, string samples, string metrics) =>
        PipelineStages.Eval(o.Source, c.PathOf(samples), c.PathOf(metrics), o.Evaluator, o.Quick, o.Seed);

    /// <summary>The first checkpoint at or past <paramref name="targetNimg"/> images (checkpoints land on batch boundaries).</summary>
    public static string SeriesCheckpoint(string trainDir, long targetNimg)
    {
        var files = CheckpointFiles(trainDir);
        if (files.Count == 0) throw new FileNotFoundException($"{trainDir}: no checkpoints");
        return files.FirstOrDefault(f => f.Nimg >= targetNimg).Path ?? files[^1].Path;
    }

    /// <summary>The checkpoint files of a run folder with their image counts, oldest first.</summary>
    public static IReadOnlyList<(string Path, long Nimg)> CheckpointFiles(string trainDir)
    {
        string dir = Path.Combine(trainDir, Checkpoint.Folder);
        if (!Directory.Exists(dir)) return [];
        return Directory.GetFiles(dir, "ckpt-*.safetensors")
            .Select(f => (Path: f, Nimg: long.Parse(Path.GetFileNameWithoutExtension(f)["ckpt-".Length..], CultureInfo.InvariantCulture)))
            .OrderBy(f => f.Nimg).ToList();
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
