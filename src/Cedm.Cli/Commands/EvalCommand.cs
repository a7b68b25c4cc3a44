using System.CommandLine;
using Cedm.Data;
using Cedm.Features;
using Cedm.Metrics;
using Cedm.Stages;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm eval &lt;real-source&gt; &lt;samples.npy&gt; --out metrics.json` (cli.md): Fréchet distance (spec §6.1), KID,
/// precision/recall/density/coverage (§6.3) of generated images against real ones in an evaluator's feature space,
/// and per-cluster FD when the samples' cluster ids and the real clustering are given.
/// metrics.json keys: fd, kid, kid_std, precision, recall, density, coverage, n_real, n_samples, evaluator, d,
/// real_source, real_transform, kid_subsets, kid_subset_size, prdc_k, prdc_n_real, prdc_n_samples,
/// per_cluster_fd (object id → {fd, n_real, n_samples}) and per_cluster_fd_mean (sample-weighted); with a cluster model:
/// cluster_features, cluster_distribution, cluster_tv, cluster_confidence_mean/median, cluster_agreement; cache, timings_s;
/// fd_real (against the real images' own statistics; = fd unless --ref), fd_ref and saved_ref (paths or null);
/// realism_median and realism_below_one (per-sample realism score), with --worst: worst_samples and worst_grid.
/// </summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var real = new Argument<string>("real-source") { Description = $"Real images: {DataSource.Syntax}." };
        var samples = new Argument<string>("samples") { Description = "Generated images: uint8 .npy shaped (N,H,W) or (N,H,W,C)." };
        var output = new Option<string>("--out") { Description = "metrics.json to write.", Required = true };
        var evaluator = new Option<string?>("--evaluator") { Description = $"Feature space of the metrics: {FeatureExtractors.Syntax}. A PCA is fitted on the real images; resnet18 gives FD_resnet18 (ImageNet ResNet-18 space: not an FID, which is inception:<weights>). Default: fmnist (the shipped evaluator, FD_fmnist) when the real source is Fashion-MNIST, else pca:64." };
        var kidSubsets = new Option<int>("--kid-subsets") { Description = "KID: number of random subsets (torch-fidelity default).", DefaultValueFactory = _ => Kid.DefaultSubsets };
        var kidSubsetSize = new Option<int>("--kid-subset-size") { Description = "KID: vectors per side in each subset.", DefaultValueFactory = _ => Kid.DefaultSubsetSize };
        var prdcK = new Option<int>("--prdc-k") { Description = "k of the k-NN balls of precision/recall/density/coverage.", DefaultValueFactory = _ => PrecisionRecall.DefaultK };
        var prdcMax = new Option<int>("--prdc-max") { Description = "PRDC: at most this many random vectors per side.", DefaultValueFactory = _ => PrecisionRecall.DefaultMaxPerSide };
        var maxReal = new Option<int?>("--max-real") { Description = "Use at most this many real images (random, with --seed). Default: all." };
        var clusters = new Option<string?>("--clusters") { Description = "A `cedm cluster` folder of the real source (ids.npy in source order): enables per-cluster FD with --sample-clusters." };
        var sampleClusters = new Option<string?>("--sample-clusters") { Description = "Cluster id of each sample, int (N,) .npy (as written by `cedm sample`)." };
        var idSpace = new Option<string>("--sample-cluster-ids") { Description = "raw: sample ids are the clustering's ids; compact: ids 0..K_used-1 over the non-empty clusters in sorted order (C-EDM's remapping).", DefaultValueFactory = _ => "raw" };
        var clusterFeatures = new Option<string?>("--cluster-features") { Description = "Extractor spec the --clusters model was fitted on (e.g. pca:<feats.pca.safetensors>). Default: the \"resolved\" spec in the JSON beside the features named in <clusters>/options.json." };
        var noCache = new Option<bool>("--no-cache") { Description = "Recompute the real statistics instead of reading/writing the cache ($CEDM_CACHE, else $XDG_CACHE_HOME/cedm or ~/.cache/cedm)." };
        var refStats = new Option<string?>("--ref") { Description = "Measure the FD against these reference statistics (.npz with mu, sigma: pytorch-fid --save-stats / EDM fid.py ref layout) instead of the real images' own; same feature space required (an FID reference needs --evaluator inception:<weights>). metrics.json: fd (against --ref), fd_real, fd_ref." };
        var saveRef = new Option<string?>("--save-ref") { Description = "Also write the real images' statistics in the evaluator's space as an .npz (mu, sigma; float64), readable by numpy, pytorch-fid and `cedm fd`." };
        var trainSource = new Option<string?>("--train-source") { Description = "The model's training images (a source): adds the memorisation check, in which the real source plays the held-out images (use a test split). metrics.json: memorisation_share (samples closer to a training image than the 5th percentile of held-out images' nearest-training distances; ~0.05 when novel), memorisation_flagged (share >= 0.10), ...; grid of the closest pairs: <out>.memorisation.png." };
        var worst = new Option<int>("--worst") { Description = "Also write <out>.worst.png: the N samples of lowest realism score (Kynkäänniemi et al. 2019: max over real k-NN balls of radius / distance; below 1 = outside every real ball), 8 to a row, lowest first, listed in metrics.json as worst_samples. metrics.json always has realism_median and realism_below_one.", DefaultValueFactory = _ => 0 };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("eval", "Evaluate generated images against a real source: FD, KID, precision/recall/density/coverage, per-cluster FD.")
        {
            real, samples, output, evaluator, kidSubsets, kidSubsetSize, prdcK, prdcMax, maxReal, clusters, clusterFeatures, sampleClusters, idSpace, noCache, refStats, saveRef, trainSource, worst, seed, force, json,
        };
        cmd.SetAction(parse =>
        {
            var request = new EvalRequest
            {
                Real = parse.GetValue(real)!, Samples = parse.GetValue(samples)!, Out = parse.GetValue(output)!, Force = parse.GetValue(force), Evaluator = parse.GetValue(evaluator),
                KidSubsets = parse.GetValue(kidSubsets), KidSubsetSize = parse.GetValue(kidSubsetSize), PrdcK = parse.GetValue(prdcK), PrdcMax = parse.GetValue(prdcMax),
                MaxReal = parse.GetValue(maxReal), Clusters = parse.GetValue(clusters), ClusterFeatures = parse.GetValue(clusterFeatures),
                SampleClusters = parse.GetValue(sampleClusters), SampleClusterIds = parse.GetValue(idSpace)!, NoCache = parse.GetValue(noCache), Seed = parse.GetValue(seed),
                Ref = parse.GetValue(refStats), SaveRef = parse.GetValue(saveRef), TrainSource = parse.GetValue(trainSource), Worst = parse.GetValue(worst),
            };
            var report = ProgressDisplay.Run("evaluation", parse.InvocationConfiguration.Error, observer => EvalStage.Run(request, observer));
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) w.WriteLine(report.Document.ToJsonString());
            else if (request.TrainSource is not null)
            {
                w.WriteLine(FormattableString.Invariant(
                    $"fd {report.Fd:G6}  kid {report.Kid:G4} ± {report.Number("kid_std"):G2}  precision {report.Precision:F3}  recall {report.Recall:F3}  density {report.Density:F3}  coverage {report.Coverage:F3}  ({request.ResolvedEvaluator}; wrote {request.Out})"));
                w.WriteLine(FormattableString.Invariant(
                    $"memorisation: {report.Number("memorisation_share"):P1} of samples closer to a training image than 95% of held-out images are (expected ~5%){(report.Document["memorisation_flagged"]!.GetValue<bool>() ? " -- FLAGGED: samples copy training images" : "")}; closest pairs: {EvalStage.MemorisationGridPath(request.Out)}"));
            }
            else
                w.WriteLine(FormattableString.Invariant(
                    $"fd {report.Fd:G6}  kid {report.Kid:G4} ± {report.Number("kid_std"):G2}  precision {report.Precision:F3}  recall {report.Recall:F3}  density {report.Density:F3}  coverage {report.Coverage:F3}  ({request.ResolvedEvaluator}; wrote {request.Out})"));
            return 0;
        });
        return cmd;
    }
}
