using System.CommandLine;
using System.Globalization;
using Cedm.Diffusion.Sampling;
using Cedm.Stages;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm sample &lt;run&gt; --n N --out samples.npy` (cli.md): EDM sampling with the latest checkpoint's EMA weights, with
/// DPM-Solver++(2M) (the default) or EDM's Heun solver (--solver; docs/sampling.md).
/// Writes samples.npy (uint8 [N, H, W, C]), samples_clusters.npy (int64 [N], the ORIGINAL label/cluster id of each
/// image via the run's label_map.json; −1 for an unconditional model), samples.json (options, checkpoint, counts)
/// and, with --grid, a PNG (with --cluster all: one row per cluster). A coherence-aware run samples at --coherence c
/// (default 1) and may use coherence-aware guidance --ca-guidance ω with --ca-low (docs/coherence.md).
/// </summary>
public static class SampleCommand
{
    public static Command Build()
    {
        var run = new Argument<string>("run") { Description = "A `cedm train` run folder." };
        var n = new Option<int>("--n") { Description = "Images to generate (seeds 0..n-1); with --cluster all, images per cluster.", DefaultValueFactory = _ => 64 };
        var seeds = new Option<string?>("--seeds") { Description = "Seed range a-b (inclusive) instead of 0..n-1; one image per seed, the same image at any batch size." };
        var seed = new Option<long?>("--seed") { Description = "First seed S: the images use seeds S..S+n-1 (so --seed S --n N is --seeds S-(S+N-1); default 0, the same images as before). Not with --seeds." };
        var output = new Option<string>("--out") { Description = "The .npy file of uint8 images (N, H, W, C).", Required = true };
        var cluster = new Option<string>("--cluster") { Description = "Condition of each image: p (drawn from the training p(c)), uniform, all (one row per utilised cluster, same seeds in every row) or an original cluster/label id. Path-conditioned runs (train --cond path:<dir>) also take node:<n> (a tree node; each image draws a leaf under it by the leaves' training mass), depth:<d> (one row per node at depth d) and path:<id> (one row per node from the root to cluster id's leaf): docs/hierarchy.md.", DefaultValueFactory = _ => "p" };
        var s = new SamplerOptions();
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance weight w: (1+w)·D(x|c) − w·D(x|∅) (needs training with --p-uncond).", DefaultValueFactory = _ => s.Guidance };
        var coherence = new Option<double?>("--coherence") { Description = "Coherence c in [0, 1] given to a coherence-aware run (c_hi under --ca-guidance). Default: 1, the clean conditional model; 0 is its label-free end." };
        var caGuidance = new Option<double>("--ca-guidance") { Description = "Coherence-aware guidance weight w: (1+w)·D(x|k, c_hi) − w·D(x|k, c_lo), c_hi = --coherence, c_lo = --ca-low (needs a coherence-aware run; not with --guidance).", DefaultValueFactory = _ => s.CoherenceGuidance };
        var caLow = new Option<double>("--ca-low") { Description = "c_lo of --ca-guidance.", DefaultValueFactory = _ => s.CoherenceLow };
        var steps = new Option<int>("--steps") { Description = "Sampler steps N, the non-zero noise levels of EDM's schedule: heun makes 2N−1 network evaluations, dpm2m N.", DefaultValueFactory = _ => s.Steps };
        var solver = new Option<string>("--solver") { Description = "ODE solver: dpm2m (DPM-Solver++(2M), multistep 2nd order, N evaluations for --steps N, deterministic; the default: on the default run's model it matched Heun's FD at half the evaluations) or heun (EDM's 2nd-order Heun, 2N−1 evaluations; takes --s-churn). Recorded as \"solver\" in the samples' .json (docs/sampling.md).", DefaultValueFactory = _ => SamplerSolvers.Name(s.Solver) };
        solver.AcceptOnlyFromAmong(SamplerSolvers.Names);
        var sigmaMin = new Option<double>("--sigma-min") { Description = "Lowest noise level.", DefaultValueFactory = _ => s.SigmaMin };
        var sigmaMax = new Option<double>("--sigma-max") { Description = "Highest noise level.", DefaultValueFactory = _ => s.SigmaMax };
        var rho = new Option<double>("--rho") { Description = "Time-step exponent ρ.", DefaultValueFactory = _ => s.Rho };
        var sChurn = new Option<double>("--s-churn") { Description = "Stochastic churn S_churn (0 = deterministic; EDM ImageNet: 40 with 256 steps).", DefaultValueFactory = _ => s.SChurn };
        var sMin = new Option<double>("--s-min") { Description = "Churn only where S_min ≤ σ ≤ S_max.", DefaultValueFactory = _ => s.SMin };
        var sMax = new Option<double>("--s-max") { Description = "Upper σ of the churn range (default ∞).", DefaultValueFactory = _ => s.SMax };
        var sNoise = new Option<double>("--s-noise") { Description = "Churn noise scale S_noise.", DefaultValueFactory = _ => s.SNoise };
        var batch = new Option<int>("--batch") { Description = "Images per network batch (speed only).", DefaultValueFactory = _ => s.BatchSize };
        var grid = new Option<string?>("--grid") { Description = "Also write a PNG grid of the samples." };
        var scale = new Option<int>("--scale") { Description = "Integer upscaling of each grid image.", DefaultValueFactory = _ => 1 };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A checkpoint file of the run instead of the latest." };
        var temperature = new Option<double>("--temperature") { Description = "features:/gmm: runs: temperature s in (0, 1] of the condition draw z ~ N(mu_k, s^2 Sigma_k) (--cluster picks k).", DefaultValueFactory = _ => 1.0 };
        var interpolate = new Option<string?>("--interpolate") { Description = "features:/gmm: runs: a,b,t — condition on (1-t) z_a + t z_b, draws of clusters a and b from the same normals." };
        var classifier = new Option<string?>("--classifier") { Description = "A `cedm classifier` file: classifier guidance D - w sigma^2 grad_x L toward each image's class (with --classifier-guidance w)." };
        var classifierGuidance = new Option<double>("--classifier-guidance") { Description = "Weight w of --classifier guidance.", DefaultValueFactory = _ => 0 };
        var nodeRows = new Option<string?>("--node-rows") { Description = "Path-conditioned runs, with --cluster node:/depth:/path:: subtree (each image draws a leaf under the node by the leaves' training mass and takes its full path) or partial (the node's partial path root..node, for runs trained with --path-truncation). Default: partial for runs trained with --path-truncation, else subtree. docs/hierarchy.md." };
        nodeRows.AcceptOnlyFromAmong("subtree", "partial");
        var features = new Option<string?>("--features") { Description = "features:/gmm: runs: a features .npy (N, D) with one row per seed (e.g. of held-out real images, for look-alikes), whitened with the run's map." };
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("sample", "Generate images with a trained run's EMA weights (EDM sampler: Heun with optional churn, or DPM-Solver++(2M); optional guidance). Under mpirun the seeds are split over the ranks (docs/distributed.md).")
        {
            run, n, seeds, seed, output, cluster, guidance, coherence, caGuidance, caLow, steps, solver, sigmaMin, sigmaMax, rho, sChurn, sMin, sMax, sNoise, batch, grid, scale, checkpoint, force, json,
            temperature, interpolate, features, classifier, classifierGuidance, nodeRows,
        };
        cmd.SetAction(parse =>
        {
            var request = new SampleRequest
            {
                Run = parse.GetValue(run)!, Seeds = ParseSeeds(parse.GetValue(seeds), parse.GetValue(n), parse.GetValue(seed)), Cluster = parse.GetValue(cluster)!,
                Sampler = new SamplerOptions
                {
                    Steps = parse.GetValue(steps), Solver = SamplerSolvers.Parse(parse.GetValue(solver)!, "Solver"), SigmaMin = parse.GetValue(sigmaMin), SigmaMax = parse.GetValue(sigmaMax), Rho = parse.GetValue(rho),
                    SChurn = parse.GetValue(sChurn), SMin = parse.GetValue(sMin), SMax = parse.GetValue(sMax), SNoise = parse.GetValue(sNoise),
                    Guidance = parse.GetValue(guidance), BatchSize = parse.GetValue(batch),
                    CoherenceGuidance = parse.GetValue(caGuidance), CoherenceLow = parse.GetValue(caLow),
                },
                Coherence = parse.GetValue(coherence), Checkpoint = parse.GetValue(checkpoint),
                Temperature = parse.GetValue(temperature), Interpolate = parse.GetValue(interpolate), Features = parse.GetValue(features),
                Classifier = parse.GetValue(classifier), ClassifierGuidance = parse.GetValue(classifierGuidance),
                NodeRows = parse.GetValue(nodeRows) switch { "partial" => NodeRowMode.Partial, "subtree" => NodeRowMode.Subtree, _ => null },
                Out = parse.GetValue(output)!, Grid = parse.GetValue(grid), Scale = parse.GetValue(scale), Force = parse.GetValue(force),
            };
            if (parse.GetResult(caLow) is { Implicit: false } && !(request.Sampler.CoherenceGuidance > 0)) throw new UsageException("--ca-low only applies with --ca-guidance");
            var (set, record) = ProgressDisplay.Run("sampling", parse.InvocationConfiguration.Error, observer => SampleStage.Run(request, observer));
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) w.WriteLine(record.ToJson());
            else w.WriteLine($"wrote {request.Out} ({set.Count} images {set.Height}x{set.Width}x{set.Channels}), {record.Clusters}{(request.Grid != null ? ", " + request.Grid : "")}");
            return 0;
        });
        return cmd;
    }

    /// <summary>first..first+n−1 (first = --seed, default 0), or the inclusive range a-b, or one seed.</summary>
    public static long[] ParseSeeds(string? text, int n, long? first = null)
    {
        // The same cap as a --seeds range: beyond it the seed list alone outgrows memory before sampling starts.
        if (n is < 1 or > 10_000_000) throw new UsageException($"--n must be between 1 and 10000000 (sample larger sets in parts with --seed), got {n}");
        if (first is not null && text is not null) throw new UsageException("--seed S (seeds S..S+n-1) and --seeds a-b both choose the seeds; give one");
        if (first is < 0 or > long.MaxValue - 10_000_000) throw new UsageException($"--seed must be a non-negative integer, got {first}");
        if (text == null) return Enumerable.Range(0, n).Select(i => (first ?? 0) + i).ToArray();
        var parts = text.Split('-');
        if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long a)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long b) && b >= a && b - a < 10_000_000)
            return Enumerable.Range(0, (int)(b - a + 1)).Select(i => a + i).ToArray();
        if (parts.Length == 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long single)) return [single];
        throw new UsageException($"--seeds: expected a range a-b of non-negative integers, got '{text}'");
    }
}
