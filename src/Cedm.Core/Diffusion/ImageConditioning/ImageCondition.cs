using Cedm.Tensors;

namespace Cedm.Diffusion.ImageConditioning;

/// <summary>
/// The conditions of a batch of an image-conditioned model (related-seeds A′.1): per image a leaf id l in [0, K) and
/// a condition image x̂₀^(l) (a TreeVAE leaf decode), [B, C_c, H, W] in the training range [−1, 1] at the resolution
/// of the generated images (the source resizes).
/// </summary>
public sealed record ImageCondition(int[] LeafIds, Tensor Images)
{
    /// <summary>How far outside [−1, 1] a value may lie (float rounding of a decoder's squashing output).</summary>
    public const float RangeTolerance = 1e-3f;

    public int Count => LeafIds.Length;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming <paramref name="who"/> (the source) unless there are
    /// <paramref name="count"/> leaf ids in [0, <paramref name="leafCount"/>) and images of shape
    /// [<paramref name="count"/>, <paramref name="channels"/>, <paramref name="height"/>, <paramref name="width"/>] with finite values in [−1, 1].
    /// </summary>
    public void Check(string who, int count, int channels, int height, int width, int leafCount)
    {
        if (LeafIds == null || Images == null) throw new ArgumentException($"{who} returned no leaf ids or no images.");
        if (LeafIds.Length != count) throw new ArgumentException($"{who} returned {LeafIds.Length} leaf ids for {count} images.");
        int bad = Array.FindIndex(LeafIds, l => (uint)l >= (uint)leafCount);
        if (bad >= 0) throw new ArgumentException($"{who} returned leaf id {LeafIds[bad]} for image {bad}; leaves are 0..{leafCount - 1}.");
        if (Images.Rank != 4 || Images.Dim(0) != count || Images.Dim(1) != channels || Images.Dim(2) != height || Images.Dim(3) != width)
            throw new ArgumentException($"{who} returned condition images of shape {Shapes.Format(Images.Shape)}; expected [{count}, {channels}, {height}, {width}] (resize the decodes to the training resolution).");
        var data = Images.Data;
        for (int i = 0; i < data.Length; i++)
            if (!(data[i] >= -1 - RangeTolerance && data[i] <= 1 + RangeTolerance))
                throw new ArgumentException($"{who} returned a condition value {data[i]} at flat index {i}; condition images must be finite and in [-1, 1], the training range.");
    }
}
