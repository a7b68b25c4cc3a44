using System.CommandLine;
using Cedm.Diffusion.Sampling;
using Cedm.Pipeline;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm run [&lt;source&gt;] --out &lt;run&gt;`: the main job — features → upper cluster bound → clusters at K_UB →
/// C-EDM training within a time budget → samples for every cluster → evaluation → report.html. Re-running with
/// the same --out resumes at the first unfinished step (training continues from its last checkpoint).
/// </summary>
public static class RunCommand
{
    public static Command Build()
    {
        var d = new MainJobOptions();
        var source = new Argument<string>("source") { Description = "Images to read (see `cedm data info --help`).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => d.Source };
        var output = new Option<string>("--out") { Description = "Run folder (created; an existing one is resumed).", Required = true };
        var quick = new Option<bool>("--quick") { Description = "Smoke-test budget (≤ 3 min): the 10k test split for Fashion-MNIST, 2 TEMI epochs, K ≤ 20, 1 minute of training, 8 sampler steps, 200 samples." };
        var minutes = new Option<double?>("--minutes") { Description = $"Training budget in minutes (default {d.TrainMinutes}, quick 1)." };
        var k = new Option<int?>("--k") { Description = "Condition on this many clusters instead of K_UB from the bound search (skips the search)." };
        var maxK = new Option<int?>("--max-k") { Description = "An explicit cap of the bound search and of K (default: none; the search stops at r < tau, its data cap or its time budget; quick 20)." };
        var method = new Option<string>("--method") { Description = "Clustering at the chosen K: temi, kmeans, gmm, agglo or treevae (on the images themselves, the cpu preset; --quick 4/2/0/2 epochs; its tree appears in the report).", DefaultValueFactory = _ => d.Method };
        method.AcceptOnlyFromAmong("temi", "kmeans", "gmm", "agglo", "treevae");
        var cond = new Option<string?>("--cond") { Description = "How the network sees a cluster: flat (one id per cluster) or tree (its root-to-leaf path in the clustering's tree, agglo or treevae; the report then shows samples by depth). Default: tree for treevae, flat otherwise." };
        cond.AcceptOnlyFromAmong(MainJobOptions.FlatCond, MainJobOptions.TreeCond);
        var features = new Option<string>("--features") { Description = "Feature extractor for clustering (see `cedm features --help`).", DefaultValueFactory = _ => d.Features };
        var preset = new Option<string>("--preset") { Description = "U-Net preset: tiny, small or cifar-edm.", DefaultValueFactory = _ => d.Preset };
        var evalSamples = new Option<int?>("--eval-samples") { Description = $"Generated images for the metrics (default {d.EvalSamples}, quick 200)." };
        var evaluator = new Option<string?>("--evaluator") { Description = "Feature space of the metrics (default: `cedm eval`'s default for the source)." };
        var solver = new Option<string>("--solver") { Description = $"ODE solver of the sampling steps, as `cedm sample --solver`: heun ({d.SamplerSteps} steps = {2 * d.SamplerSteps - 1} network evaluations per image) or dpm2m ({d.SamplerSteps} evaluations).", DefaultValueFactory = _ => SamplerSolvers.Name(d.SamplerSolver) };
        solver.AcceptOnlyFromAmong(SamplerSolvers.Names);
        var seed = GlobalOptions.Seed();
        var cmd = new Command("run", "The main job: features, cluster bound, clustering, C-EDM training, samples, evaluation and an HTML report, in one resumable run folder.")
        {
            source, output, quick, minutes, k, maxK, method, cond, features, preset, evalSamples, evaluator, solver, seed,
        };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!;
            var ctx = new PipelineFolder(dir);
            var options = new MainJobOptions
            {
                Source = parse.GetValue(source)!, Features = parse.GetValue(features)!, Method = parse.GetValue(method)!, Cond = parse.GetValue(cond),
                K = parse.GetValue(k), Preset = parse.GetValue(preset)!, Evaluator = parse.GetValue(evaluator), Seed = parse.GetValue(seed),
                SamplerSolver = SamplerSolvers.Parse(parse.GetValue(solver)!, nameof(MainJobOptions.SamplerSolver)),
            };
            if (parse.GetValue(quick)) options = options.AsQuick();
            options = options with
            {
                TrainMinutes = parse.GetValue(minutes) ?? options.TrainMinutes,
                MaxK = parse.GetValue(maxK) ?? options.MaxK,
                EvalSamples = parse.GetValue(evalSamples) ?? options.EvalSamples,
            };
            options.Validate();
            var err = parse.InvocationConfiguration.Error;
            options = SavedOptions.Open(ctx, MainJobOptions.FileName, options, MainJobOptions.FromJson, o => o.ToJson(), (a, b) => a == b, err.WriteLine);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            PipelineProgressView.Run(MainJobPlan.For(options), ctx, parse.InvocationConfiguration.Error);
            parse.InvocationConfiguration.Output.WriteLine($"done in {clock.Elapsed.TotalMinutes:F1} min: {ctx.PathOf(MainJobPlan.Report)}");
            return 0;
        });
        return cmd;
    }
}
