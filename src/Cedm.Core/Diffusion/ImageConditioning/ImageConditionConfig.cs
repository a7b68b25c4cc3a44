using System.Text.Json.Nodes;

namespace Cedm.Diffusion.ImageConditioning;

/// <summary>
/// An image-conditioned run's record (the "image_condition" object of config.json, related-seeds A′.1): what the
/// caller needs to rebuild the condition source for a resumed run and its sampler for `cedm sample` — the kind (e.g.
/// "treevae"), where the condition model lives, its own settings, and the shape it promised (channels, leaves).
/// Diffusion only stores it; the caller that knows the kind reads it back.
/// </summary>
public sealed record ImageConditionConfig
{
    /// <summary>The kind of source, e.g. "treevae".</summary>
    public required string Kind { get; init; }

    /// <summary>Where the condition model lives (an absolute path, e.g. the TreeVAE's folder).</summary>
    public required string Source { get; init; }

    /// <summary>Channels C_c of the condition images (= the network's condition_channels).</summary>
    public int Channels { get; init; }

    /// <summary>Number of leaves K (= the network's label_dim when the leaf conditions the net too, else that is 0).</summary>
    public int LeafCount { get; init; }

    /// <summary>The source's own settings (e.g. how the leaf is drawn), stored as given; null when it has none.</summary>
    public JsonObject? Settings { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> unless the record is complete and fits a network with <paramref name="conditionChannels"/> and <paramref name="labelDim"/>.</summary>
    public void Validate(int conditionChannels, int labelDim)
    {
        if (string.IsNullOrWhiteSpace(Kind)) throw new ArgumentException("image_condition.kind is empty");
        if (Source is null) throw new ArgumentException("image_condition.source is missing");
        if (Channels < 1 || LeafCount < 1) throw new ArgumentException($"image_condition needs ≥ 1 channel and ≥ 1 leaf (got {Channels} and {LeafCount})");
        if (Channels != conditionChannels)
            throw new ArgumentException($"image_condition has {Channels} channel(s) but the network's condition_channels is {conditionChannels}");
        if (labelDim != 0 && labelDim != LeafCount)
            throw new ArgumentException($"image_condition has {LeafCount} leaves but the network's label_dim is {labelDim} (it must be the leaf count, or 0 for no leaf conditioning)");
    }
}
