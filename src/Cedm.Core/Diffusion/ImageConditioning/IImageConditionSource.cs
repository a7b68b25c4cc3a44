using Cedm.Tensors;

namespace Cedm.Diffusion.ImageConditioning;

/// <summary>
/// Where an image-conditioned model's training conditions come from (related-seeds A′.1, Diffuse-TreeVAE stage 2): for
/// each training image x a leaf l (A′.1 draws l ~ P(·|x) from the frozen TreeVAE's q-routers) and that leaf's decode
/// x̂₀^(l). Implemented outside Diffusion (e.g. by the TreeVAE), so Diffusion never references how clusters are found.
/// </summary>
public interface IImageConditionSource
{
    /// <summary>Channels C_c of the condition images (the network's <see cref="Networks.SongUNetOptions.ConditionChannels"/>).</summary>
    int Channels { get; }

    /// <summary>Number of leaves K; leaf ids lie in [0, K). A net conditioned on the leaf too has label dimension K.</summary>
    int LeafCount { get; }

    /// <summary>
    /// The conditions of one batch: <paramref name="rows"/>[i] is batch image i's row index in the dataset the trainer
    /// was given (its un-flipped image); the result has a leaf id and a condition image ([B, C_c, H, W] in [−1, 1], the
    /// dataset's resolution) per row, in row order. Every random choice must come from <paramref name="rng"/>, the
    /// run's generator, and depend only on the rows and its state: a resumed run then repeats an uninterrupted one.
    /// </summary>
    ImageCondition Draw(IReadOnlyList<int> rows, Rng rng);

    /// <summary>What the run folder records (config.json "image_condition") so that the caller can rebuild this source
    /// and its <see cref="IImageConditionSampler"/> for a resumed run and for sampling.</summary>
    ImageConditionConfig Describe();
}
