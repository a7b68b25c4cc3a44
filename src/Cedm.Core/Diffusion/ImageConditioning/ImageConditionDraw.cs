using Cedm.Tensors;

namespace Cedm.Diffusion.ImageConditioning;

/// <summary>
/// How <see cref="Sampling.EdmSampler"/> gets the conditions of an image-conditioned model: a caller's
/// <see cref="IImageConditionSampler"/> and, optionally, one leaf for every image (related-seeds A′.1 sampling modes:
/// <c>sample</c> draws the leaf, <c>sample_all_leaves</c> is one fixed leaf per row with the same seeds).
/// </summary>
public sealed class ImageConditionDraw
{
    public ImageConditionDraw(IImageConditionSampler sampler, int? leaf = null)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        if (sampler.Channels < 1) throw new ArgumentException($"{sampler.GetType().Name} declares {sampler.Channels} condition channels; at least 1 is needed.", nameof(sampler));
        if (sampler.LeafCount < 1) throw new ArgumentException($"{sampler.GetType().Name} declares {sampler.LeafCount} leaves; at least 1 is needed.", nameof(sampler));
        if (leaf is int l && (uint)l >= (uint)sampler.LeafCount)
            throw new ArgumentOutOfRangeException(nameof(leaf), l, $"Leaf {l} does not exist; the condition sampler has leaves 0..{sampler.LeafCount - 1}.");
        Sampler = sampler;
        Leaf = leaf;
    }

    public IImageConditionSampler Sampler { get; }

    /// <summary>The leaf of every image, or null for the sampler's own draw.</summary>
    public int? Leaf { get; }

    public int Channels => Sampler.Channels;

    public int LeafCount => Sampler.LeafCount;

    /// <summary>The conditions of images whose generators are <paramref name="rngs"/>, checked (shape, leaf ids, range; a fixed leaf kept).</summary>
    public ImageCondition Draw(IReadOnlyList<Rng> rngs, int height, int width)
    {
        string who = Sampler.GetType().Name;
        var drawn = Sampler.Draw(rngs, Leaf, height, width) ?? throw new ArgumentException($"{who} returned no conditions.");
        drawn.Check(who, rngs.Count, Channels, height, width, LeafCount);
        if (Leaf is int l && drawn.LeafIds.Any(id => id != l)) throw new ArgumentException($"{who} was asked for leaf {l} but returned other leaves.");
        return drawn;
    }
}
