using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Clustering.TreeVae;

/// <summary>
/// TreeVAE as an <see cref="IClusterer"/> (related-seeds A): grows a tree of up to K leaves over the inputs (flattened
/// images in [0, 1], or any vectors with a Gaussian likelihood); ids = argmax P(leaf|x), probabilities = P(leaf|x)
/// [N, leaves], confidence = their maximum. The leaf count after pruning may be below K; clusters.json's K is the
/// leaf count and its options record the K asked for.
/// </summary>
public sealed class TreeVaeClusterer(TreeVaeOptions options) : IClusterer
{
    /// <summary>The tree as a readable file next to model.safetensors (path conditioning reads it).</summary>
    public const string TreeFile = "treevae.json";

    public string Method => "treevae";

    public TreeVaeOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    /// <summary>[C, H, W] when the inputs are flattened images; saved with the model so its decodes can be drawn.</summary>
    public int[]? ImageShape { get; init; }

    public TreeVaeClusterModel? LastModel { get; private set; }

    public TreeVaeTrainingResult? LastTraining { get; private set; }

    public int[]? LastLeafCounts { get; private set; }

    public ClusterAssignment Fit(Tensor features, Rng rng, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Rank != 2) throw new ArgumentException($"TreeVAE inputs must be [N, D], got {Shapes.Format(features.Shape)}.");
        Options.Validate();
        int n = features.Dim(0);
        if (Options.Likelihood == TreeVaeLikelihood.Bernoulli)
        {
            var data = features.Data;
            for (long i = 0; i < data.Length; i++)
                if (!(data[i] is >= 0f and <= 1f))
                    throw new ArgumentException($"a Bernoulli TreeVAE needs inputs in [0, 1]; value {data[i]} at row {i / features.Dim(1)} (give images, or use the Gaussian likelihood for features)");
        }
        var training = new TreeVaeTrainer(Options) { ImageShape = ImageShape }.Train(features, rng, progress);
        var model = new TreeVaeClusterModel(training.Model, ImageShape);
        int k = model.K;
        var probs = training.Model.LeafProbabilities(features);
        var (ids, conf) = Temi.TemiModel.ArgMax(probs, n, k);
        LastModel = model;
        LastTraining = training;
        LastLeafCounts = TreeVaeTrainer.LeafCounts(ids, k);
        var opts = JsonSerializer.SerializeToNode(Options) as JsonObject ?? new JsonObject();
        opts["k_requested"] = Options.MaxLeaves;
        opts["leaves"] = k;
        opts["depth"] = training.Model.Shape.Depth.Max();
        opts["tree"] = model.TreeJson(LastLeafCounts);
        opts["growth"] = new JsonArray(training.Growth.Select(g => (JsonNode)g).ToArray());
        opts["phases"] = new JsonArray(training.Phases.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name, ["epochs"] = p.Epochs, ["rows"] = p.Rows, ["seconds"] = Math.Round(p.Seconds, 2),
            ["loss"] = Math.Round(p.Loss, 4), ["reconstruction"] = Math.Round(p.Reconstruction, 4), ["kl"] = Math.Round(p.Kl, 4),
        }).ToArray());
        return new ClusterAssignment(Method, k, ids, conf, probs, opts);
    }

    /// <summary>Writes model.safetensors and treevae.json into <paramref name="dir"/>.</summary>
    public void Save(string dir, bool overwrite)
    {
        var model = LastModel ?? throw new InvalidOperationException("Fit first");
        model.Save(Path.Combine(dir, ClusterModels.FileName), overwrite);
        AtomicFile.WriteAllBytes(Path.Combine(dir, TreeFile), JsonSerializer.SerializeToUtf8Bytes(model.TreeJson(LastLeafCounts), IndentedJson), overwrite);
    }
}
