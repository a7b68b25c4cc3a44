using System.CommandLine;
using System.Globalization;
using Cedm.Data;
using Cedm.Diffusion.Sampling;
using Cedm.Pipeline;
using Cedm.Pipeline.Study;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm study [&lt;source&gt;] --out &lt;dir&gt;` (cli.md): the C-EDM paper's central experiment at this machine's scale —
/// unconditional vs ground-truth labels vs clusters over several K around K_UB, every model trained for the same
/// number of images with the same seed and evaluated the same way; FD over K beside the utilisation ratio, FD over
/// training images for the unconditional and best-K model. Resumable like `cedm run`. See docs/study.md.
/// </summary>
public static class StudyCommand
{
    public static Command Build()
    {
        var d = new StudyOptions();
        var q = d.AsQuick();
        var source = new Argument<string>("source") { Description = "Images to read (see `cedm data info --help`).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => d.Source };
        var output = new Option<string>("--out") { Description = "Study folder (created; an existing one is resumed: nothing complete is recomputed).", Required = true };
        var quick = new Option<bool>("--quick") { Description = $"Smoke-test budget (a couple of minutes): the 10k test split for Fashion-MNIST, bound K ≤ {q.MaxK}, K ≤ {q.KCap}, {q.Kimg} kimg, {q.EvalSamples} samples, {q.SamplerSteps} sampler steps." };
        var kimg = new Option<double?>("--kimg") { Description = $"Training images per model in thousands — the same for every model, so variants compare fairly on a shared, noisy machine (a minutes budget would measure the load). Default {d.Kimg} (quick {q.Kimg})." };
        var evalSamples = new Option<int?>("--eval-samples") { Description = $"Generated images per model for the metrics (default {d.EvalSamples}, quick {q.EvalSamples})." };
        var ks = new Option<string?>("--ks") { Description = "Comma-separated K of the cluster-conditioned models (e.g. 5,10,20,40). Default: K_UB/2 (if ≥ 2), K_UB, 2·K_UB, 4·K_UB and the label count, up to --k-cap. The bound search runs either way (K_UB is marked in the figure)." };
        var kStart = new Option<int?>("--k-start") { Description = "K doubles from this value until it passes 2·K_UB, with K_UB itself among them (instead of the set around K_UB)." };
        var trainingSeeds = new Option<int>("--training-seeds") { Description = "1, or 2 to train the unconditional, label and best-K models again with seed + 1 (the spread a seed makes).", DefaultValueFactory = _ => d.TrainingSeeds };
        var compareFeatures = new Option<string?>("--compare-features") { Description = "A second extractor (e.g. pca:64) whose clusters at K_UB condition one more model: the feature comparison." };
        var kCap = new Option<int?>("--k-cap") { Description = $"Largest K of the default set (default {d.KCap}, quick {q.KCap}; also ≤ images/{d.MinImagesPerCluster})." };
        var maxK = new Option<int?>("--max-k") { Description = $"An explicit cap of the bound search (default: none, quick {q.MaxK}); the search stops at r < tau, its data cap or its {d.BoundMinutes}-minute budget." };
        var series = new Option<int?>("--series-points") { Description = $"Checkpoints on the sample-efficiency curve (FD over kimg) of the unconditional and best-K model (default {d.SeriesPoints}, quick {q.SeriesPoints})." };
        var steps = new Option<int?>("--steps") { Description = $"Sampler steps N (default {d.SamplerSteps}, quick {q.SamplerSteps}): 2N−1 network evaluations per image with heun, N with dpm2m." };
        var solver = new Option<string>("--solver") { Description = "ODE solver of every model's sampling, as `cedm sample --solver`: heun or dpm2m (a --variant's own --solver wins).", DefaultValueFactory = _ => SamplerSolvers.Name(d.SamplerSolver) };
        solver.AcceptOnlyFromAmong(SamplerSolvers.Names);
        var noLabels = new Option<bool>("--no-labels") { Description = "Skip the ground-truth-label model (it is trained by default when the source has labels)." };
        var variant = new Option<string[]>("--variant") { Description = $"An extra model (repeatable): {StudyVariant.Syntax}.", AllowMultipleArgumentsPerToken = false };
        var noGuidance = new Option<bool>("--no-guidance") { Description = "Skip the guidance comparison at the best K (CAD, CAD with coherence-aware guidance, classifier-free guidance)." };
        var coherence = new Option<string>("--coherence") { Description = "Coherence score of the CAD model (`cedm train --coherence`).", DefaultValueFactory = _ => d.Coherence };
        var caGuidance = new Option<string?>("--ca-guidance") { Description = $"Comma-separated coherence-aware guidance scales of the CAD model (default {string.Join(',', d.CaGuidance)})." };
        var cfgGuidance = new Option<string?>("--cfg-guidance") { Description = $"Comma-separated classifier-free guidance weights (default {string.Join(',', d.CfgGuidance)})." };
        var pUncond = new Option<double?>("--p-uncond") { Description = $"Condition dropout of the classifier-free-guidance model (default {d.PUncond})." };
        var method = new Option<string>("--method") { Description = "Clustering of the cluster-conditioned models: temi, kmeans, gmm or agglo.", DefaultValueFactory = _ => d.Method };
        method.AcceptOnlyFromAmong("temi", "kmeans", "gmm", "agglo");
        var features = new Option<string>("--features") { Description = "Feature extractor for clustering (see `cedm features --help`).", DefaultValueFactory = _ => d.Features };
        var preset = new Option<string>("--preset") { Description = "U-Net preset of every model: tiny, small or cifar-edm.", DefaultValueFactory = _ => d.Preset };
        preset.AcceptOnlyFromAmong("tiny", "small", "cifar-edm");
        var evaluator = new Option<string?>("--evaluator") { Description = "Feature space of the metrics (default: `cedm eval`'s default for the source: fmnist for Fashion-MNIST, i.e. FD_fmnist)." };
        var seed = GlobalOptions.Seed();
        var json = GlobalOptions.Json();
        var cmd = new Command("study", "The C-EDM experiment at this scale: unconditional vs label vs cluster conditioning over several K (equal kimg budgets), FD over K beside the utilisation ratio, sample efficiency; resumable (docs/study.md).")
        {
            source, output, quick, kimg, evalSamples, ks, kStart, trainingSeeds, compareFeatures, kCap, maxK, series, steps, solver, noLabels, noGuidance, coherence, caGuidance, cfgGuidance, pUncond, variant, method, features, preset, evaluator, seed, json,
        };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!;
            var options = new StudyOptions
            {
                Source = parse.GetValue(source)!, Method = parse.GetValue(method)!, Features = parse.GetValue(features)!, Preset = parse.GetValue(preset)!,
                Evaluator = parse.GetValue(evaluator), Seed = parse.GetValue(seed), Labels = !parse.GetValue(noLabels),
                ExtraVariants = parse.GetValue(variant) ?? [], Ks = ParseKs(parse.GetValue(ks)),
                KStart = parse.GetValue(kStart), TrainingSeeds = parse.GetValue(trainingSeeds), CompareFeatures = parse.GetValue(compareFeatures),
                Guidance = !parse.GetValue(noGuidance), Coherence = parse.GetValue(coherence)!,
                CaGuidance = ParseScales(parse.GetValue(caGuidance), "--ca-guidance") ?? d.CaGuidance,
                CfgGuidance = ParseScales(parse.GetValue(cfgGuidance), "--cfg-guidance") ?? d.CfgGuidance,
                PUncond = parse.GetValue(pUncond) ?? d.PUncond,
                SamplerSolver = SamplerSolvers.Parse(parse.GetValue(solver)!, nameof(StudyOptions.SamplerSolver)),
            };
            if (parse.GetValue(quick)) options = options.AsQuick();
            options = options with
            {
                Kimg = parse.GetValue(kimg) ?? options.Kimg,
                EvalSamples = parse.GetValue(evalSamples) ?? options.EvalSamples,
                KCap = parse.GetValue(kCap) ?? options.KCap,
                MaxK = parse.GetValue(maxK) ?? options.MaxK,
                SeriesPoints = parse.GetValue(series) ?? options.SeriesPoints,
                SamplerSteps = parse.GetValue(steps) ?? options.SamplerSteps,
            };
            options.Validate();
            var err = parse.InvocationConfiguration.Error;
            var ctx = new PipelineFolder(dir);
            options = SavedOptions.Open(ctx, StudyOptions.FileName, options, StudyOptions.FromJson, o => o.ToJson(), (a, b) => a.SameAs(b), err.WriteLine);
            var data = DataSource.Load(options.Source);
            var facts = new SourceFacts(data.Count, data.Labels is null ? 0 : data.LabelCounts().Count);
            var plan = new StudySteps(options, facts);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            PipelineProgressView.Run(plan.Plan, ctx, err);
            if (parse.GetValue(json)) parse.InvocationConfiguration.Output.WriteLine(File.ReadAllText(ctx.PathOf(StudyResults.JsonFile)));
            else parse.InvocationConfiguration.Output.WriteLine($"done in {clock.Elapsed.TotalMinutes:F1} min: {ctx.PathOf(StudySteps.Report)} ({ctx.PathOf(StudyResults.JsonFile)})");
            return 0;
        });
        return cmd;
    }

    private static double[]? ParseScales(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t =>
            double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) && w > 0 && double.IsFinite(w) ? w
                : throw new UsageException($"{option}: expected comma-separated positive numbers, got '{text}'")).ToArray();
    }

    private static int[]? ParseKs(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t =>
            int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k >= 2 ? k
                : throw new UsageException($"--ks: expected comma-separated integers ≥ 2, got '{text}'")).ToArray();
    }
}
