using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.Tensors;

namespace Cedm.Clustering.Temi;

/// <summary>
/// TEMI as an <see cref="IClusterer"/> (spec §4): cosine kNN of the features, student/teacher training, then the
/// teacher's best head on the original features gives ids = argmax, probabilities = softmax at τ_t [N, K] and
/// confidence = their maximum. <see cref="LastModel"/>/<see cref="LastTraining"/> keep the fitted model and the run's history.
/// </summary>
public sealed class TemiClusterer(int k, TemiOptions? options = null) : IClusterer
{
    public string Method => "temi";

    public int K { get; } = k >= 1 ? k : throw new ArgumentOutOfRangeException(nameof(k), k, "K must be ≥ 1.");

    public TemiOptions Options { get; } = options ?? TemiOptions.Spec();

    /// <summary>Precomputed neighbours to reuse across runs on the same features (the bound search sets it, on features it
    /// whitened once, with <see cref="TemiOptions.Whiten"/> = 0 here); else computed in Fit.</summary>
    public int[,]? Neighbours { get; init; }

    public TemiModel? LastModel { get; private set; }

    public TemiTrainingResult? LastTraining { get; private set; }

    /// <summary>Seconds spent in the kNN search by the last Fit (0 when neighbours were given).</summary>
    public double LastKnnSeconds { get; private set; }

    public ClusterAssignment Fit(Tensor features, Rng rng, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Rank != 2) throw new ArgumentException($"Features must be [N, D], got {Shapes.Format(features.Shape)}.");
        Options.Validate();
        int n = features.Dim(0);
        var whitening = Options.Whiten > 0 ? TemiWhitening.Fit(features, Options.Whiten) : null;
        var input = whitening?.Apply(features) ?? features;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var nn = Neighbours ?? Knn.CosineTopK(input, Math.Min(Options.Neighbours, n - 1));
        LastKnnSeconds = Neighbours == null ? clock.Elapsed.TotalSeconds : 0;
        var training = new TemiTrainer(Options).Train(input, nn, K, rng, progress);
        var model = new TemiModel(training.Teacher[training.BestHead], Options.TeacherTemperature, whitening);
        var probs = model.HeadProbabilities(input);   // the training input: whitened once
        var (ids, conf) = TemiModel.ArgMax(probs, n, K);
        LastModel = model;
        LastTraining = training;
        var opts = JsonSerializer.SerializeToNode(Options) as JsonObject ?? new JsonObject();
        opts["k"] = K;
        opts["best_head"] = training.BestHead;
        opts["whitened_dimension"] = whitening?.Dimension ?? 0;
        opts["teacher_momentum_used"] = training.TeacherMomentum;
        opts["knn_seconds"] = Math.Round(LastKnnSeconds, 3);
        opts["epoch_seconds"] = new JsonArray(training.EpochSeconds.Select(t => (JsonNode)Math.Round(t, 3)).ToArray());
        opts["final_head_losses"] = new JsonArray(training.EpochHeadLosses[^1].Select(l => (JsonNode)l).ToArray());
        return new ClusterAssignment(Method, K, ids, conf, probs, opts);
    }
}
