using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.Data;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Features.Evaluator;

/// <summary>
/// The `fmnist[:&lt;weights&gt;]` extractor: the 128-d penultimate features of a trained <see cref="FashionClassifier"/>,
/// which define FD_fmnist. Input is 28×28×1; larger square inputs with an even margin (32×32 samples of a U-Net
/// trained on Fashion-MNIST padded by 2) are centre-cropped back to 28×28 first, so padded samples and the
/// padded real images they are compared with see the same network input as the unpadded originals.
/// Without a path the shipped evaluator <see cref="DefaultFileName"/> is used (see <see cref="DefaultPath"/>).
/// </summary>
public sealed class FashionEvaluatorFeatures : IFeatureExtractor
{
    public const string DefaultFileName = "fmnist-evaluator.safetensors";
    public const string Kind = "fmnist-evaluator";
    private const int Batch = 500;

    public FashionEvaluatorFeatures(FashionClassifier model, string weightsPath, IReadOnlyDictionary<string, string> metadata)
    {
        Model = model;
        WeightsPath = Path.GetFullPath(weightsPath);
        Metadata = metadata;
        model.SetTraining(false);
    }

    public FashionClassifier Model { get; }
    public string WeightsPath { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public string Name => $"fmnist:{WeightsPath}";
    public int Dimension => FashionClassifier.FeatureDimension;

    /// <summary>The test accuracy recorded when the weights were made.</summary>
    public double? TestAccuracy => Metadata.TryGetValue("test_accuracy", out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var a) ? a : null;

    public static FashionEvaluatorFeatures Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"fmnist evaluator weights {path} not found (make them with `cedm evaluator train fashion-mnist --out {path}`)", path);
        var model = new FashionClassifier(new Rng(0));
        var meta = model.LoadSafetensors(path);
        if (meta.TryGetValue("cedm_kind", out var kind) && kind != Kind)
            throw new InvalidDataException($"{path} holds a '{kind}', not a Fashion-MNIST evaluator");
        return new FashionEvaluatorFeatures(model, path, meta);
    }

    /// <summary>
    /// Saves the weights with their options and measured accuracy as safetensors metadata and in a JSON side file
    /// (weights.json).
    /// </summary>
    public static void Save(FashionClassifier model, string path, FashionClassifierOptions options, FashionClassifierReport report, string source)
    {
        var info = new JsonObject
        {
            ["kind"] = Kind,
            ["source"] = source,
            ["options"] = JsonSerializer.SerializeToNode(options),
            ["test_accuracy"] = report.TestAccuracy,
            ["train_accuracy"] = report.TrainAccuracy,
            ["train_loss"] = report.TrainLoss,
            ["steps"] = report.Steps,
            ["train_seconds"] = report.Seconds,
            ["n_train"] = report.TrainCount,
            ["n_test"] = report.TestCount,
            ["threads"] = EnginePolicy.Current.Threads,
            ["input"] = "28x28x1 in [-1, 1] (u/127.5 - 1); larger inputs centre-cropped",
            ["features"] = "penultimate 128-d (after ReLU)",
        };
        var meta = new Dictionary<string, string>
        {
            ["cedm_kind"] = Kind,
            ["options"] = JsonSerializer.Serialize(options),
            ["test_accuracy"] = report.TestAccuracy.ToString("R", CultureInfo.InvariantCulture),
            ["source"] = source,
        };
        model.SaveSafetensors(path, meta);
        AtomicFile.WriteAllBytes(SidePath(path), System.Text.Encoding.UTF8.GetBytes(info.ToJsonString(new JsonSerializerOptions { WriteIndented = true })), overwrite: true);
    }

    public static string SidePath(string weightsPath) => Path.ChangeExtension(weightsPath, ".json");

    /// <summary>
    /// The shipped evaluator: $CEDM_FMNIST_EVALUATOR if set, else models/fmnist-evaluator.safetensors beside the
    /// program or in the nearest enclosing folder (the repository) of the program or the working directory.
    /// </summary>
    public static string DefaultPath()
    {
        string? env = Environment.GetEnvironmentVariable("CEDM_FMNIST_EVALUATOR");
        if (!string.IsNullOrEmpty(env)) return env;
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "models", DefaultFileName);
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new FileNotFoundException($"the shipped Fashion-MNIST evaluator models/{DefaultFileName} was not found beside the program or in an enclosing folder; pass fmnist:<weights> or make one with `cedm evaluator train fashion-mnist --out models/{DefaultFileName}`");
    }

    public Tensor Extract(ImageDataset images, IProgress<double>? progress = null) =>
        ImageBatch.MapBatches(images, Batch, CropFor(images), Dimension, Model.Features, progress);

    /// <summary>The margin to crop so the input becomes 28×28 (0 for 28×28; 2 for 32×32).</summary>
    public static int CropFor(ImageDataset images)
    {
        int s = FashionClassifier.InputSize;
        if (images.Channels != 1 || images.Height != images.Width || images.Height < s || (images.Height - s) % 2 != 0)
            throw new ArgumentException($"fmnist evaluator: expects 28x28x1 images (or square grey images with an even margin such as 32x32, centre-cropped); {images.Name} has {images.Height}x{images.Width}x{images.Channels}");
        return (images.Height - s) / 2;
    }
}
