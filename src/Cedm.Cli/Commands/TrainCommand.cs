using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cedm.Diffusion.Coherence;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.Networks;
using Cedm.Diffusion.Training;
using Cedm.Stages;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm train &lt;source&gt; --cond none|labels|clusters:&lt;dir&gt; --out &lt;run&gt;` (cli.md): trains an EDM model and writes
/// &lt;run&gt;/config.json (before training), label_map.json (+ clusters.json), log.jsonl, checkpoint.json and
/// checkpoints/*.safetensors; with `--coherence` (CAD, docs/coherence.md) also coherence.npy. `--resume` continues the run in &lt;run&gt; with its saved options (only --kimg and
/// --minutes may change) and gives exactly the result of an uninterrupted run.
/// </summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var source = SourceOptions.Source();
        var resolution = SourceOptions.Resolution();
        var pad = new Option<int?>("--pad") { Description = "Pixels of black padding on every side. Default: only up to the next multiple of 2^(levels-1) the U-Net needs (28 stays 28 for the 3-level presets; --pad 2 gives 32)." };
        var cond = new Option<string>("--cond") { Description = "Conditioning: none, labels (the source's labels), clusters:<dir> (a `cedm cluster` folder; ids renumbered to the utilised clusters), tree:<dir> (a treevae folder with treevae.json, or an agglo folder with tree.json: each cluster conditioned on its root-to-leaf path, a sum of per-node embeddings; path:<dir> is the same; docs/hierarchy.md), treevae:<dir> (Diffuse-TreeVAE: a treevae folder's leaf decode as extra input channels plus its leaf, l ~ P(l|x) in training, a root walk at sampling; docs/hierarchy.md), features:<feats.npy> (each image's own whitened feature vector: the oracle row) or gmm:<dir> (a Gaussian per utilised cluster in whitened feature space; see --gmm-mode). docs/feature-conditioning.md.", DefaultValueFactory = _ => "none" };
        var fo = new FeatureConditionOptions();
        var featureDim = new Option<int>("--feature-dim") { Description = "features:/gmm: whitened (PCA) dimension d of the condition vector.", DefaultValueFactory = _ => fo.Dim };
        var gmmMode = new Option<string?>("--gmm-mode") { Description = "gmm: what each training image is conditioned on: centroid (its cluster's mean), draw (a fresh z ~ N(mu_k, s^2 Sigma_k) each step; default) or own (its own whitened feature)." };
        gmmMode.AcceptOnlyFromAmong([.. FeatureConditionOptions.Modes]);
        var gmmRank = new Option<int>("--gmm-rank") { Description = "features:/gmm: rank r of each component's covariance factor (Sigma = W W^T + sigma^2 I); 0 = diagonal.", DefaultValueFactory = _ => fo.Rank };
        var gmmShrinkage = new Option<double>("--gmm-shrinkage") { Description = "features:/gmm: covariance shrinkage toward (tr S/d) I, in [0, 1].", DefaultValueFactory = _ => fo.Shrinkage };
        var gmmTemperature = new Option<double>("--gmm-temperature") { Description = "gmm: draw temperature s in (0, 1] while training.", DefaultValueFactory = _ => fo.Temperature };
        var gmmAssign = new Option<string>("--gmm-assign") { Description = "gmm: responsibilities of the fit: hard (cluster ids), soft (probs.npy: GMM responsibilities, TEMI soft assignments) or auto (soft when probs.npy exists).", DefaultValueFactory = _ => fo.Assign };
        gmmAssign.AcceptOnlyFromAmong([.. FeatureConditionOptions.Assignments]);
        var gmmFeatures = new Option<string?>("--gmm-features") { Description = "gmm: the features .npy to fit on (default: the one the clustering was made from, its options.json)." };
        Option[] featureFlags = [featureDim, gmmMode, gmmRank, gmmShrinkage, gmmTemperature, gmmAssign, gmmFeatures];
        var output = new Option<string>("--out") { Description = "Run folder.", Required = true };
        var preset = new Option<string>("--preset") { Description = "Network: tiny (32 ch, 1 block/level), small (64 ch, 2 blocks, spec §2.6) or cifar-edm (EDM's DDPM++, 56 M params).", DefaultValueFactory = _ => "tiny" };
        preset.AcceptOnlyFromAmong(SongUNetOptions.Presets);
        var kimg = new Option<double?>("--kimg") { Description = "Train until this many thousand images in total (a resumed run stops at the same total)." };
        var minutes = new Option<double?>("--minutes") { Description = "Stop after this many minutes of this invocation (a checkpoint is written)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest checkpoint, with its saved options." };
        var d = new TrainingOptions();
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => d.Batch };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate (EDM: 1e-3).", DefaultValueFactory = _ => d.Lr };
        var rampup = new Option<double>("--lr-rampup-kimg") { Description = "Linear learning-rate warm-up, kimg (EDM: 10000 for 200 Mimg; default scaled 1/1000).", DefaultValueFactory = _ => d.LrRampupKimg };
        var ema = new Option<double>("--ema-kimg") { Description = "EMA half-life, kimg (EDM: 500 for 200 Mimg; default scaled 1/1000).", DefaultValueFactory = _ => d.EmaHalflifeKimg };
        var emaRamp = new Option<double>("--ema-rampup") { Description = "EMA ramp-up ratio (0 disables; EDM: 0.05).", DefaultValueFactory = _ => d.EmaRampupRatio ?? 0 };
        var ckpt = new Option<double>("--checkpoint-kimg") { Description = "Checkpoint interval, kimg (one is also written at the end).", DefaultValueFactory = _ => d.CheckpointKimg };
        var logKimg = new Option<double>("--log-kimg") { Description = "log.jsonl interval, kimg.", DefaultValueFactory = _ => d.LogKimg };
        var keep = new Option<int>("--keep") { Description = "Newest checkpoints kept on disk.", DefaultValueFactory = _ => d.KeepCheckpoints };
        var pathTruncation = new Option<double>("--path-truncation") { Description = "Path-conditioned runs (--cond tree:<dir>): probability that an image's root-to-leaf path stops at an ancestor drawn uniformly from the root to the leaf's parent (related-seeds D.3), so every internal node gets a trained row and `cedm sample --cluster node:<n>` can condition on it (--node-rows partial). Default 0: full paths only.", DefaultValueFactory = _ => 0 };
        var pUncond = new Option<double>("--p-uncond") { Description = "Condition dropout probability (for classifier-free guidance; C-EDM default 0).", DefaultValueFactory = _ => 0 };
        var xflip = new Option<bool>("--xflip") { Description = "Random horizontal flips of training images." };
        var co = new CoherenceOptions();
        var coherence = new Option<string?>("--coherence") { Description = "Coherence-aware training (CAD): a score per image from the --cond clusters:<dir> folder — maxprob (probs.npy row max; k-means: its distance-softmax confidence), entropy (1 - H(probs)/ln K), confidence (confidence.npy as saved) — or a .npy of N scores in [0, 1]. Default: off." };
        var coherenceMode = new Option<string>("--coherence-mode") { Description = "Pre-processing of the scores: raw, bin (quantile bins, levels i/(B-1)) or minmax (clip to --coherence-quantiles, rescale to [0, 1]).", DefaultValueFactory = _ => co.Mode };
        coherenceMode.AcceptOnlyFromAmong([.. CoherenceOptions.Modes]);
        var coherenceBins = new Option<int>("--coherence-bins") { Description = "Quantile bins B of --coherence-mode bin (CAD class configs: 10).", DefaultValueFactory = _ => co.Bins };
        var coherenceQuantiles = new Option<string>("--coherence-quantiles") { Description = "Quantiles lo,hi of --coherence-mode minmax (CAD 'margined': 0.1,0.9).", DefaultValueFactory = _ => string.Create(CultureInfo.InvariantCulture, $"{co.QuantileLow},{co.QuantileHigh}") };
        var dropout = new Option<float?>("--dropout") { Description = "Dropout in the U-Net blocks. Default: the preset's (0.10 tiny/small, 0.13 cifar-edm)." };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("train", "Train a (cluster-)conditional EDM diffusion model (DDPM++ U-Net, EDM loss, Adam, EMA). Under mpirun -np R: data-parallel, the global --batch split over the ranks (docs/distributed.md).")
        {
            source, cond, output, preset, kimg, minutes, resume, batch, lr, rampup, ema, emaRamp, ckpt, logKimg, keep, pUncond, pathTruncation, xflip, dropout,
            coherence, coherenceMode, coherenceBins, coherenceQuantiles, resolution, pad, seed, force, json,
            featureDim, gmmMode, gmmRank, gmmShrinkage, gmmTemperature, gmmAssign, gmmFeatures,
        };
        cmd.SetAction(parse =>
        {
            string run = parse.GetValue(output)!, src = parse.GetValue(source)!, condSpec = parse.GetValue(cond)!;
            string? coherenceSpec = parse.GetValue(coherence);
            bool coherenceTuned = new Option[] { coherenceMode, coherenceBins, coherenceQuantiles }.Any(o => parse.GetResult(o) is { Implicit: false });
            bool featureTuned = featureFlags.Any(o => parse.GetResult(o) is { Implicit: false });
            TrainingSession session;
            if (parse.GetValue(resume))
            {
                // A resume keeps the saved options; the flags that would change them are refused, not ignored.
                var saved = RunConfig.Load(run);
                if (saved.Source != src) throw new UsageException($"--resume: the run was trained on '{saved.Source}', not '{src}'");
                if (parse.GetResult(cond) is { Implicit: false } && saved.Cond != condSpec) throw new UsageException($"--resume: the run uses --cond {saved.Cond}, not {condSpec}");
                if (coherenceSpec != null && coherenceSpec != saved.Coherence?.Options.Source)
                    throw new UsageException($"--resume: the run was trained with {(saved.Coherence is null ? "no --coherence" : "--coherence " + saved.Coherence.Options.Source)}, not --coherence {coherenceSpec}");
                if (coherenceTuned) throw new UsageException("--resume: the coherence pre-processing of a run cannot change");
                if (featureTuned) throw new UsageException("--resume: the feature condition of a run cannot change");
                session = TrainStage.Resume(new ResumeRequest
                {
                    Out = run, Kimg = parse.GetValue(kimg), Minutes = parse.GetResult(minutes) is { Implicit: false } ? parse.GetValue(minutes) : null,
                });
            }
            else
            {
                if (coherenceSpec is null && coherenceTuned) throw new UsageException("--coherence-mode, --coherence-bins and --coherence-quantiles need --coherence");
                var q = coherenceSpec is null ? default : ParseQuantiles(parse.GetValue(coherenceQuantiles)!);
                bool featureCond = FeatureConditions.IsFeatureSpec(condSpec);
                if (featureTuned && !featureCond)
                    throw new UsageException($"{string.Join(", ", featureFlags.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name))}: needs --cond features:<npy> or gmm:<dir>");
                bool oracle = condSpec.StartsWith(FeatureConditions.FeaturesPrefix, StringComparison.Ordinal);
                if (oracle && parse.GetValue(gmmFeatures) != null) throw new UsageException("--gmm-features only applies to --cond gmm:<dir> (features:<npy> names its file)");
                session = TrainStage.Create(new TrainRequest
                {
                    Source = src, Cond = condSpec, Out = run, Resolution = parse.GetValue(resolution), Pad = parse.GetValue(pad), Force = parse.GetValue(force),
                    Training = new TrainingOptions
                    {
                        Preset = parse.GetValue(preset)!, Batch = parse.GetValue(batch), Lr = parse.GetValue(lr), LrRampupKimg = parse.GetValue(rampup),
                        EmaHalflifeKimg = parse.GetValue(ema), EmaRampupRatio = parse.GetValue(emaRamp) is var r && r > 0 ? r : null,
                        Kimg = parse.GetValue(kimg), Minutes = parse.GetValue(minutes), CheckpointKimg = parse.GetValue(ckpt), LogKimg = parse.GetValue(logKimg),
                        KeepCheckpoints = parse.GetValue(keep), Seed = parse.GetValue(seed), PUncond = parse.GetValue(pUncond), PathTruncation = parse.GetValue(pathTruncation), XFlip = parse.GetValue(xflip),
                        Dropout = parse.GetValue(dropout),
                    },
                    Features = !featureCond ? null : new FeatureConditionOptions
                    {
                        Mode = parse.GetValue(gmmMode) ?? (oracle ? "own" : fo.Mode), Dim = parse.GetValue(featureDim), Rank = parse.GetValue(gmmRank),
                        Shrinkage = parse.GetValue(gmmShrinkage), Temperature = parse.GetValue(gmmTemperature), Assign = parse.GetValue(gmmAssign)!,
                        Features = parse.GetValue(gmmFeatures),
                    },
                    Coherence = coherenceSpec is null ? null : new CoherenceOptions
                    {
                        Source = coherenceSpec, Mode = parse.GetValue(coherenceMode)!, Bins = parse.GetValue(coherenceBins), QuantileLow = q.Low, QuantileHigh = q.High,
                    },
                });
            }
            if (session.Config.Coherence?.Transform.Warning is { } warning) parse.InvocationConfiguration.Error.WriteLine($"warning: {warning}");
            var (summary, parameters) = ProgressDisplay.Run("training", parse.InvocationConfiguration.Error, session.Train);
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                w.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["run"] = run, ["step"] = summary.Step, ["cur_nimg"] = summary.CurNimg, ["kimg"] = summary.CurNimg / 1000.0, ["loss"] = summary.LastLoss,
                    ["seconds"] = summary.Seconds, ["checkpoint"] = summary.Checkpoint, ["stopped_by"] = summary.StoppedBy, ["label_dim"] = session.Labels.Dim,
                    ["parameters"] = parameters, ["coherence"] = session.Config.Coherence?.Options.Source ?? "none",
                    ["feature_dim"] = session.Config.Network.FeatureDim,
                }));
            else
                w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"trained {run}: {summary.CurNimg / 1000.0:F2} kimg in {summary.Step} steps, last loss {summary.LastLoss:F4}, {summary.Seconds:F1} s; checkpoint {summary.Checkpoint}"));
            return 0;
        });
        return cmd;
    }

    private static (double Low, double High) ParseQuantiles(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double lo)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double hi))
            return (lo, hi);
        throw new UsageException($"--coherence-quantiles: expected lo,hi (e.g. 0.1,0.9), got '{text}'");
    }
}
