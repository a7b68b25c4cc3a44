using Cedm.Tensors;

namespace Cedm.Diffusion.ImageConditioning;

/// <summary>
/// The sampling-time counterpart of <see cref="IImageConditionSource"/> (related-seeds A′.1, "Sampling"): for each
/// generated image a leaf and its condition image, e.g. a root draw z₀ ~ N(0, I) propagated through the TreeVAE, the
/// leaf drawn from its p-routers' π (or fixed), and that leaf's decode.
/// </summary>
public interface IImageConditionSampler
{
    /// <summary>Channels C_c of the condition images.</summary>
    int Channels { get; }

    /// <summary>Number of leaves K; leaf ids lie in [0, K).</summary>
    int LeafCount { get; }

    /// <summary>
    /// One condition per generator: condition i ([C_c, H, W] in [−1, 1] at the requested resolution) depends on
    /// <paramref name="rngs"/>[i] alone, which is image i's own seed generator (the sampler's per-seed rule, so an image
    /// does not depend on its batch). <paramref name="leaf"/> null: the sampler draws the leaf; otherwise every
    /// condition is at that leaf. To keep a seed's later draws the same whatever the leaf option (as
    /// <see cref="Labels.ConditionDraw"/> does), consume the same numbers from a generator either way — then a fixed
    /// leaf changes only the condition, and "one row per leaf" gives A′.1's sample_all_leaves (the same root draw at
    /// every leaf).
    /// </summary>
    ImageCondition Draw(IReadOnlyList<Rng> rngs, int? leaf, int height, int width);
}
