using System.Text.Json;
using System.Text.Json.Serialization;
using Cedm.Diffusion.Coherence;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Diffusion.Networks;
using Cedm.IO;

namespace Cedm.Diffusion.Training;

/// <summary>
/// A run folder's config.json (cli.md `cedm train`): everything that built the run — the source and conditioning as
/// typed, the transform, the image shape, the network options (enough to rebuild the model for `cedm sample`) and
/// the training options, and the coherence record of a coherence-aware run. Written before training starts; snake_case keys.
/// </summary>
public sealed record RunConfig
{
    public const string FileName = "config.json";

    public int Version { get; init; } = 1;
    public required string Source { get; init; }
    public required string Cond { get; init; }
    public int? Resolution { get; init; }
    public int Pad { get; init; }
    public int Channels { get; init; }
    public int Height { get; init; }
    public int Width { get; init; }
    public int Images { get; init; }
    public required SongUNetOptions Network { get; init; }
    public required TrainingOptions Training { get; init; }

    /// <summary>Coherence-aware training (CAD, related-seeds C/D.1): options, fit and statistics; null (absent) when off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CoherenceConfig? Coherence { get; init; }

    /// <summary>A continuous condition (features:/gmm:, related-seeds B.3): kind, sources, options; null (absent) when off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FeatureConditionConfig? Features { get; init; }

    /// <summary>An image condition (related-seeds A′.1, Diffuse-TreeVAE stage 2): what rebuilds the condition source and
    /// sampler; null (absent) for every other run, present exactly when the network has condition channels.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImageConditionConfig? ImageCondition { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The config.json document.</summary>
    public System.Text.Json.Nodes.JsonNode ToJsonNode() => JsonSerializer.SerializeToNode(this, Json)!;

    /// <summary>Throws <see cref="ArgumentException"/> when the image shape or the network cannot be built (a damaged file).</summary>
    public void Validate()
    {
        if (Channels < 1 || Height < 1 || Width < 1) throw new ArgumentException($"image shape {Height}x{Width}x{Channels} must be positive");
        ArgumentNullException.ThrowIfNull(Network, nameof(Network));
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Network.Validate();
        if (Network.Resolution != Height || Network.InChannels != Channels)
            throw new ArgumentException($"the network's resolution {Network.Resolution} and channels {Network.InChannels} do not match the images {Height}x{Width}x{Channels}");
        if (ImageCondition is null && Network.ConditionChannels > 0)
            throw new ArgumentException($"the network has {Network.ConditionChannels} condition channel(s) but there is no image_condition record to rebuild its condition source from");
        ImageCondition?.Validate(Network.ConditionChannels, Network.LabelDim);
    }

    public void Save(string runDir, bool overwrite = true) =>
        AtomicFile.WriteAllBytes(Path.Combine(runDir, FileName), JsonSerializer.SerializeToUtf8Bytes(this, Json), overwrite);

    public static RunConfig Load(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{runDir}: no {FileName} (expected a `cedm train` run folder)", path);
        try
        {
            var config = JsonSerializer.Deserialize<RunConfig>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty");
            config.Validate();
            return config;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
