using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cedm.Data;
using Cedm.Diffusion;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using Cedm.Imaging.Png;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm sample &lt;run&gt; --n N --out samples.npy` (cli.md): EDM Heun sampling with the latest checkpoint's EMA weights.
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
        var output = new Option<string>("--out") { Description = "The .npy file of uint8 images (N, H, W, C).", Required = true };
        var cluster = new Option<string>("--cluster") { Description = "Condition of each image: p (drawn from the training p(c)), uniform, all (one row per utilised cluster, same seeds in every row) or an original cluster/label id.", DefaultValueFactory = _ => "p" };
        var s = new SamplerOptions();
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance weight w: (1+w)·D(x|c) − w·D(x|∅) (needs training with --p-uncond).", DefaultValueFactory = _ => s.Guidance };
        var coherence = new Option<double?>("--coherence") { Description = "Coherence c in [0, 1] given to a coherence-aware run (c_hi under --ca-guidance). Default: 1, the clean conditional model; 0 is its label-free end." };
        var caGuidance = new Option<double>("--ca-guidance") { Description = "Coherence-aware guidance weight w: (1+w)·D(x|k, c_hi) − w·D(x|k, c_lo), c_hi = --coherence, c_lo = --ca-low (needs a coherence-aware run; not with --guidance).", DefaultValueFactory = _ => s.CoherenceGuidance };
        var caLow = new Option<double>("--ca-low") { Description = "c_lo of --ca-guidance.", DefaultValueFactory = _ => s.CoherenceLow };
        var steps = new Option<int>("--steps") { Description = "Heun steps N (2N−1 network evaluations).", DefaultValueFactory = _ => s.Steps };
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
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("sample", "Generate images with a trained run's EMA weights (EDM Heun sampler, optional churn and guidance).")
        {
            run, n, seeds, output, cluster, guidance, coherence, caGuidance, caLow, steps, sigmaMin, sigmaMax, rho, sChurn, sMin, sMax, sNoise, batch, grid, scale, checkpoint, force, json,
        };
        cmd.SetAction(parse =>
        {
            string runDir = parse.GetValue(run)!;
            string outPath = parse.GetValue(output)!;
            string? gridPath = parse.GetValue(grid);
            bool overwrite = parse.GetValue(force);
            if (!outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--out: expected a .npy file name, got {outPath}");
            if (gridPath != null && !gridPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--grid: expected a .png file name, got {gridPath}");
            string stem = outPath[..^4];
            string clustersPath = stem + "_clusters.npy", jsonPath = stem + ".json";
            foreach (var f in new[] { outPath, clustersPath, jsonPath, gridPath })
                if (f != null && File.Exists(f) && !overwrite) throw new UsageException($"{f} already exists; pass --force to overwrite it");
            int count = parse.GetValue(n);
            if (count < 1) throw new UsageException($"--n must be at least 1, got {count}");
            int zoom = parse.GetValue(scale);
            if (zoom is < 1 or > 16) throw new UsageException($"--scale must be between 1 and 16, got {zoom}");
            var options = new SamplerOptions
            {
                Steps = parse.GetValue(steps), SigmaMin = parse.GetValue(sigmaMin), SigmaMax = parse.GetValue(sigmaMax), Rho = parse.GetValue(rho),
                SChurn = parse.GetValue(sChurn), SMin = parse.GetValue(sMin), SMax = parse.GetValue(sMax), SNoise = parse.GetValue(sNoise),
                Guidance = parse.GetValue(guidance), BatchSize = parse.GetValue(batch),
                Coherence = parse.GetValue(coherence) ?? s.Coherence, CoherenceGuidance = parse.GetValue(caGuidance), CoherenceLow = parse.GetValue(caLow),
            };
            if (options.Guidance > 0 && options.CoherenceGuidance > 0) throw new UsageException("--guidance and --ca-guidance exclude each other; choose one");
            if (parse.GetResult(caLow) is { Implicit: false } && !(options.CoherenceGuidance > 0)) throw new UsageException("--ca-low only applies with --ca-guidance");
            options.Validate();

            var config = RunConfig.Load(runDir);
            var map = LabelSource.LoadMap(runDir);
            string ckptPath = parse.GetValue(checkpoint) ?? Checkpoint.Latest(runDir)?.Path
                ?? throw new FileNotFoundException($"{runDir}: no checkpoint yet ({Checkpoint.PointerFile} missing)");
            if (map.K != config.Network.LabelDim) throw new InvalidDataException($"{runDir}: label_map.json has {map.K} conditions, the network {config.Network.LabelDim}");
            var net = new EdmPrecond(config.Network, new Rng(0UL));
            net.LoadStateDict(Checkpoint.LoadEma(ckptPath));
            net.SetTraining(false);
            if (options.Guidance > 0 && map.K == 0) throw new UsageException("--guidance needs a conditional run");
            bool coherent = config.Network.Coherence;
            if (!coherent && parse.GetValue(coherence) is not null) throw new UsageException("--coherence: this run was trained without coherence scores (cedm train --coherence)");
            if (!coherent && options.CoherenceGuidance > 0) throw new UsageException("--ca-guidance needs a run trained with coherence scores (cedm train --coherence)");

            var baseSeeds = ParseSeeds(parse.GetValue(seeds), count);
            string mode = parse.GetValue(cluster)!;
            var jobs = new List<(long[] Seeds, ConditionDraw? Draw)>();
            if (map.K == 0)
            {
                if (parse.GetResult(cluster) is { Implicit: false } && mode != "p") throw new UsageException("--cluster: this run is unconditional");
                jobs.Add((baseSeeds, null));
            }
            else if (mode == "all") jobs.AddRange(Enumerable.Range(0, map.K).Select(c => (baseSeeds, (ConditionDraw?)ConditionDraw.Fixed(c, map.K))));
            else if (mode == "p") jobs.Add((baseSeeds, ConditionDraw.Empirical(map.Counts)));
            else if (mode == "uniform") jobs.Add((baseSeeds, ConditionDraw.Uniform(map.K)));
            else if (long.TryParse(mode, NumberStyles.Integer, CultureInfo.InvariantCulture, out long original)) jobs.Add((baseSeeds, ConditionDraw.Fixed(map.ToCompact(original), map.K)));
            else throw new UsageException($"--cluster: expected p, uniform, all or a cluster id, got '{mode}'");

            var sampler = new EdmSampler(net, options);
            int total = jobs.Sum(j => j.Seeds.Length), done = 0;
            var results = ProgressDisplay.Run("sampling", report => jobs.Select(j =>
            {
                var r = sampler.Sample(j.Seeds, config.Channels, config.Height, config.Width, j.Draw,
                    new Progress<double>(f => report((done + f * j.Seeds.Length) / total, $"{total} images, {options.Steps} steps")));
                done += j.Seeds.Length;
                return r;
            }).ToList());

            var pixels = results.SelectMany(r => r.ToUInt8()).ToArray();
            var originalIds = results.SelectMany(r => r.Conditions).Select(c => c < 0 ? -1L : map.Used[c]).ToArray();
            var allSeeds = results.SelectMany(r => r.Seeds).ToArray();
            Npy.Write(outPath, pixels, total, config.Height, config.Width, config.Channels);
            Npy.Write(clustersPath, originalIds, total);
            if (gridPath != null)
            {
                var images = new ImageDataset("samples", pixels, total, config.Height, config.Width, config.Channels);
                PngImage png = mode == "all" && map.K > 0
                    ? ImageGrid.Compose(images, Enumerable.Range(0, results.Count).Select(r => (IReadOnlyList<int>)Enumerable.Range(r * baseSeeds.Length, baseSeeds.Length).ToArray()).ToList(), new GridOptions { Scale = zoom })
                    : ImageGrid.Compose(images, (int)Math.Ceiling(Math.Sqrt(total)), new GridOptions { Scale = zoom });
                AtomicFile.WriteAllBytes(gridPath, PngEncoder.Encode(png), overwrite);
            }
            var info = new Dictionary<string, object?>
            {
                ["run"] = runDir, ["checkpoint"] = ckptPath, ["n"] = total, ["seeds"] = new[] { allSeeds.Min(), allSeeds.Max() },
                ["height"] = config.Height, ["width"] = config.Width, ["channels"] = config.Channels,
                ["cluster"] = map.K == 0 ? null : mode, ["label_mode"] = map.Mode, ["label_dim"] = map.K,
                ["coherence"] = coherent ? options.Coherence : null,
                ["images"] = outPath, ["clusters"] = clustersPath, ["grid"] = gridPath,
                ["cluster_counts"] = originalIds.GroupBy(c => c).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(CultureInfo.InvariantCulture), g => g.Count()),
                ["sampler"] = new Dictionary<string, double>
                {
                    ["steps"] = options.Steps, ["nfe"] = sampler.Nfe, ["sigma_min"] = options.SigmaMin, ["sigma_max"] = options.SigmaMax, ["rho"] = options.Rho,
                    ["s_churn"] = options.SChurn, ["s_min"] = options.SMin, ["s_max"] = double.IsInfinity(options.SMax) ? -1 : options.SMax, ["s_noise"] = options.SNoise,
                    ["guidance"] = options.Guidance, ["ca_guidance"] = options.CoherenceGuidance, ["ca_low"] = options.CoherenceLow,
                },
            };
            string text = JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true });
            AtomicFile.WriteAllBytes(jsonPath, System.Text.Encoding.UTF8.GetBytes(text), overwrite: true);
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) w.WriteLine(text);
            else w.WriteLine($"wrote {outPath} ({total} images {config.Height}x{config.Width}x{config.Channels}), {clustersPath}{(gridPath != null ? ", " + gridPath : "")}");
            return 0;
        });
        return cmd;
    }

    private static long[] ParseSeeds(string? text, int n)
    {
        if (text == null) return Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        var parts = text.Split('-');
        if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long a)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long b) && b >= a && b - a < 10_000_000)
            return Enumerable.Range(0, (int)(b - a + 1)).Select(i => a + i).ToArray();
        if (parts.Length == 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long single)) return [single];
        throw new UsageException($"--seeds: expected a range a-b of non-negative integers, got '{text}'");
    }
}
