using System.CommandLine;
using System.Globalization;
using Cedm.Clustering;
using Cedm.Clustering.TreeVae;
using Cedm.Stages;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm cluster &lt;feats.npy&gt; --method kmeans|gmm|agglo|temi --k K --out &lt;dir&gt;` (cli.md "Commands"):
/// <see cref="ClusterStage"/>.
/// </summary>
public static class ClusterCommand
{
    public static Command Build()
    {
        var features = new Argument<string>("features") { Description = "Features .npy, float32 or float64, shape (N, D). For --method treevae also a data source (its images are clustered, pixels in [0, 1])." };
        var method = new Option<string>("--method") { Description = string.Join(" | ", ClusteringMethods.Names) + ".", DefaultValueFactory = _ => "kmeans" };
        method.AcceptOnlyFromAmong(ClusteringMethods.Names);
        var k = new Option<int>("--k") { Description = "Number of clusters K, 1 <= K <= N.", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var seed = GlobalOptions.Seed();
        var nInit = new Option<int?>("--n-init") { Description = "Restarts keeping the best fit (kmeans, gmm). Default: 1." };
        var maxIter = new Option<int?>("--max-iter") { Description = "Iteration limit. Default: 300 (kmeans), 100 (gmm)." };
        var tol = new Option<double?>("--tol") { Description = "Tolerance. Default: 1e-4 x mean feature variance on the centre shift (kmeans), 1e-3 on the per-sample log-likelihood change (gmm)." };
        var cosine = new Option<bool>("--cosine") { Description = "L2-normalise the rows first (kmeans, agglo)." };
        var covariance = new Option<string>("--covariance") { Description = "GMM covariance: full | diag.", DefaultValueFactory = _ => "full" };
        covariance.AcceptOnlyFromAmong("full", "diag");
        var preset = new Option<string>("--preset") { Description = "TEMI settings: cpu (the default: 8 heads 64/32, 30 epochs; see TemiOptions) or spec (16 heads 512/256, 100 epochs; spec §4.5). TreeVAE: cpu (30/15/8/30 epochs) or spec (150/150/80/200, related-seeds A.4).", DefaultValueFactory = _ => "cpu" };
        preset.AcceptOnlyFromAmong("spec", "cpu");
        var beta = new Option<double?>("--beta") { Description = "TEMI beta of the PMI loss. Default: 0.6 (1 = weighted PMI, the lower-bound runs)." };
        var heads = new Option<int?>("--heads") { Description = "TEMI heads. Default: the preset's (spec 16, cpu 8)." };
        var epochs = new Option<int?>("--epochs") { Description = "TEMI epochs (warm-up scaled with them). Default: the preset's (spec 100, cpu 30)." };
        var whiten = new Option<int?>("--whiten") { Description = "TEMI input: centre and PCA-whiten the features to this many dimensions (at most D) before the kNN and the heads; 0 = the raw features of spec 4.1 (TEMI collapses on uncentred ones such as resnet18's). Default 64." };
        var knn = new Option<int?>("--knn") { Description = "TEMI neighbours a partner is drawn from. Default: 50." };
        var treeEpochs = new Option<string?>("--tree-epochs") { Description = "TreeVAE epochs initial/subtree/intermediate/final, e.g. 30/15/8/30. Default: the preset's." };
        var likelihood = new Option<string?>("--likelihood") { Description = "TreeVAE decoder: bernoulli (inputs in [0, 1]; the default for a data source) or gaussian (the default for a features .npy)." };
        likelihood.AcceptOnlyFromAmong("bernoulli", "gaussian");
        var treeArch = new Option<string>("--tree-arch") { Description = "TreeVAE layers: mlp (the vector variant: vector latents, MLPs; any input) or cnn (CNN-TreeVAE: 16x2x2 latent maps, conv blocks, 7 levels; square images from a data source only; related-seeds A.5).", DefaultValueFactory = _ => "mlp" };
        treeArch.AcceptOnlyFromAmong("mlp", "cnn");
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("cluster", "Cluster features into K clusters (ids, confidence, probabilities when soft, p(c), utilisation).")
        {
            features, method, k, output, seed, nInit, maxIter, tol, cosine, covariance, preset, beta, heads, epochs, knn, whiten, treeEpochs, likelihood, treeArch, force, json,
        };
        cmd.SetAction(parse =>
        {
            string m = parse.GetValue(method)!;
            var settings = new ClusteringSettings
            {
                Method = m, K = parse.GetValue(k), NInit = parse.GetValue(nInit), MaxIter = parse.GetValue(maxIter), Tol = parse.GetValue(tol),
                Cosine = parse.GetValue(cosine), Covariance = parse.GetValue(covariance) == "diag" ? CovarianceType.Diag : CovarianceType.Full,
                Temi = m == "temi" ? ClusteringMethods.TemiPreset(parse.GetValue(preset)!, parse.GetValue(beta), parse.GetValue(heads), parse.GetValue(epochs), parse.GetValue(knn), parse.GetValue(whiten)) : null,
                TreeVae = m == "treevae" ? TreeVaeOptions.Create(parse.GetValue(preset)!, parse.GetValue(k), parse.GetValue(treeEpochs),
                    (parse.GetValue(likelihood) ?? (ClusteringInputs.IsSource(parse.GetValue(features)!, m) ? "bernoulli" : "gaussian")) == "bernoulli"
                        ? TreeVaeLikelihood.Bernoulli : TreeVaeLikelihood.Gaussian,
                    parse.GetValue(treeArch) == "cnn" ? TreeVaeArchitecture.Cnn : TreeVaeArchitecture.Mlp) : null,
            };
            var request = new ClusteringRequest
            {
                Features = parse.GetValue(features)!, Settings = settings, Out = parse.GetValue(output)!, Seed = parse.GetValue(seed), Force = parse.GetValue(force),
            };
            var r = ProgressDisplay.Run($"{m} K={settings.K}", parse.InvocationConfiguration.Error, observer => ClusterStage.Run(request, observer));
            var a = r.Assignment;
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                var doc = a.ToJson();
                doc["out"] = r.Folder;
                doc["seconds"] = r.Record.Seconds;
                w.WriteLine(doc.ToJsonString());
            }
            else
                w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{m}: {r.Record.N} points -> K={settings.K}, {a.Utilized} utilised (ratio {a.Ratio:F3}), mean confidence {a.Confidence.Average(v => (double)v):F3}, {r.Record.Seconds:F2} s; wrote {r.Folder}"));
            return 0;
        });
        return cmd;
    }
}
