using System.Globalization;
using System.Text.Json;
using Cedm.Data;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Features.Ssl;

/// <summary>
/// The `ssl` extractor: the L2-normalised 128-d representation of a SimCLR-trained <see cref="SslEncoder"/>
/// (normalised because NT-Xent compares representations by cosine, so direction is what training shaped; k-means
/// on the unit sphere then follows that geometry). `ssl` trains on the source first (<see cref="Train"/>); the
/// weights are saved beside the features (feats.ssl.safetensors) and `ssl:&lt;weights&gt;` reuses them.
/// </summary>
public sealed class SslFeatures : IFeatureExtractor
{
    public const string Kind = "ssl-simclr";
    private const int Batch = 500;

    public SslFeatures(SslEncoder encoder, string? weightsPath, IReadOnlyDictionary<string, string> metadata, SslTrainingReport? report = null)
    {
        Encoder = encoder;
        WeightsPath = weightsPath is null ? null : Path.GetFullPath(weightsPath);
        Metadata = metadata;
        Report = report;
        encoder.SetTraining(false);
    }

    public SslEncoder Encoder { get; }

    /// <summary>Where the weights live (null for a freshly trained encoder not yet saved).</summary>
    public string? WeightsPath { get; private set; }

    public IReadOnlyDictionary<string, string> Metadata { get; private set; }

    /// <summary>The training run that produced the encoder, when it was trained in this process.</summary>
    public SslTrainingReport? Report { get; }

    public string Name => WeightsPath is null ? "ssl" : $"ssl:{WeightsPath}";
    public int Dimension => SslEncoder.RepresentationDimension;

    /// <summary>Trains an encoder on <paramref name="images"/> (see <see cref="SslTrainer"/>).</summary>
    public static SslFeatures Train(ImageDataset images, SslOptions options, IProgress<double>? progress = null, Action<string>? log = null)
    {
        var (encoder, report) = SslTrainer.Train(images, options, progress, log);
        var meta = new Dictionary<string, string>
        {
            ["cedm_kind"] = Kind,
            ["channels"] = images.Channels.ToString(CultureInfo.InvariantCulture),
            ["projection_dimension"] = options.ProjectionDimension.ToString(CultureInfo.InvariantCulture),
            ["options"] = JsonSerializer.Serialize(options),
            ["report"] = JsonSerializer.Serialize(report),
            ["trained_on"] = images.Name,
        };
        return new SslFeatures(encoder, null, meta, report);
    }

    public void Save(string path, bool overwrite)
    {
        if (File.Exists(path) && !overwrite) throw new OutputExistsException(path);
        Encoder.SaveSafetensors(path, Metadata);
        WeightsPath = Path.GetFullPath(path);
    }

    public static SslFeatures Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ssl encoder weights {path} not found", path);
        var meta = Safetensors.Read(path).Metadata;
        if (!meta.TryGetValue("cedm_kind", out var kind) || kind != Kind)
            throw new InvalidDataException($"{path} is not an ssl encoder written by cedm (metadata cedm_kind = {kind ?? "missing"})");
        int channels = int.Parse(meta["channels"], CultureInfo.InvariantCulture);
        int proj = int.Parse(meta["projection_dimension"], CultureInfo.InvariantCulture);
        var encoder = new SslEncoder(channels, new Rng(0), proj);
        encoder.LoadSafetensors(path);
        return new SslFeatures(encoder, path, meta);
    }

    public Tensor Extract(ImageDataset images, IProgress<double>? progress = null)
    {
        if (images.Channels != Encoder.Channels)
            throw new ArgumentException($"ssl: the encoder takes {Encoder.Channels}-channel images; {images.Name} has {images.Channels}");
        return ImageBatch.MapBatches(images, Batch, 0, Dimension, x => Encoder.Represent(x).L2Normalize(), progress);
    }
}
