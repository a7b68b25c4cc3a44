using Cedm.Tensors;

namespace Cedm.Diffusion.ImageConditioning;

/// <summary>
/// A training batch's image conditions (related-seeds A′.1) as the trainer feeds them: drawn once for the whole
/// (global) batch from the run's generator, then laid out for the images [lo, hi) this process trains on.
/// </summary>
internal static class ImageConditionBatch
{
    /// <summary>
    /// The condition images [hi − lo, C_c, H, W] of batch images lo..hi−1 (whose dataset rows are
    /// <paramref name="rows"/>[i]); writes each one's leaf into its one-hot row of <paramref name="onehot"/> (when the
    /// net is leaf-conditioned). A flipped training image gets its condition flipped too, so the condition stays the
    /// decode of what the net is asked to denoise. A dropped condition is the zero image with the zero label row
    /// (A′.1: "replace the decode by zeros").
    /// </summary>
    public static Tensor Draw(IImageConditionSource source, int[] rows, Rng rng, int lo, int hi, bool[] flipped, bool[] dropped,
        float[]? onehot, int labelDim, int height, int width)
    {
        var drawn = source.Draw(rows, rng) ?? throw new ArgumentException($"{source.GetType().Name} returned no conditions.");
        drawn.Check(source.GetType().Name, rows.Length, source.Channels, height, width, source.LeafCount);
        int cc = source.Channels, size = cc * height * width, n = hi - lo;
        var image = new float[(long)n * size];
        for (int i = lo; i < hi; i++)
        {
            if (dropped[i]) continue;
            var dest = image.AsSpan((i - lo) * size, size);
            drawn.Images.Data.AsSpan(i * size, size).CopyTo(dest);
            if (flipped[i])
                for (int row = 0; row < cc * height; row++) dest.Slice(row * width, width).Reverse();
            if (onehot != null) onehot[(i - lo) * labelDim + drawn.LeafIds[i]] = 1f;
        }
        return new Tensor(image, n, cc, height, width);
    }
}
