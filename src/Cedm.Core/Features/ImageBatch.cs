using Cedm.Data;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tensors.Kernels;

namespace Cedm.Features;

/// <summary>
/// Turns stored images (uint8 [N, H, W, C]) into network input batches: float32 NCHW in [−1, 1] (the range the
/// diffusion model is trained in, u/127.5 − 1), optionally centre-cropped, for our own networks; ImageNet-normalised
/// 3-channel planes for the pretrained ones (gray → 3 channels).
/// </summary>
public static class ImageBatch
{
    /// <summary>
    /// Images [start, start + count) as [count, C, H − 2·crop, W − 2·crop] in [−1, 1]; <paramref name="crop"/> pixels
    /// are dropped on every side (a U-Net trained on Fashion-MNIST padded 28 → 32 produces 32×32 samples whose
    /// centre 28×28 is the image).
    /// </summary>
    public static Tensor ToTensor(ImageDataset images, int start, int count, int crop = 0)
    {
        int h = images.Height, w = images.Width, c = images.Channels;
        int oh = h - 2 * crop, ow = w - 2 * crop;
        if (crop < 0 || oh < 1 || ow < 1) throw new ArgumentException($"cannot crop {crop} pixels from {h}x{w} images");
        var data = new float[(long)count * c * oh * ow];
        var pixels = images.Pixels;
        Parallelism.ForEach(count, (long)c * oh * ow, n =>
        {
            {
                int src = (start + n) * h * w * c, dst = n * c * oh * ow;
                for (int ch = 0; ch < c; ch++)
                    for (int y = 0; y < oh; y++)
                        for (int x = 0; x < ow; x++)
                            data[dst + (ch * oh + y) * ow + x] = pixels[src + ((y + crop) * w + x + crop) * c + ch] * (2f / 255f) - 1f;
            }
        });
        return new Tensor(data, [count, c, oh, ow]);
    }

    /// <summary>
    /// Runs <paramref name="forward"/> on batches of <paramref name="images"/> without recording gradients and
    /// stacks the rows ([N, D]).
    /// </summary>
    public static Tensor MapBatches(ImageDataset images, int batchSize, int crop, int dimension, Func<Tensor, Tensor> forward,
        IProgress<double>? progress) =>
        MapBatches(images.Count, batchSize, dimension, (start, n) => forward(ToTensor(images, start, n, crop)), progress);

    /// <summary>
    /// Runs <paramref name="batch"/>(start, count) over consecutive batches of <paramref name="count"/> images without
    /// recording gradients, checks that each returns [count, D] values and stacks the rows ([N, D]).
    /// </summary>
    public static Tensor MapBatches(int count, int batchSize, int dimension, Func<int, int, Tensor> batch, IProgress<double>? progress)
    {
        var result = new float[(long)count * dimension];
        using (GradMode.NoGrad())
        {
            for (int start = 0; start < count; start += batchSize)
            {
                int n = Math.Min(batchSize, count - start);
                var y = batch(start, n);
                if (y.Size != n * dimension) throw new InvalidDataException($"the network returned {Shapes.Format(y.Shape)}, expected [{n}, {dimension}]");
                y.Data.AsSpan(0, n * dimension).CopyTo(result.AsSpan(start * dimension));
                progress?.Report((double)(start + n) / count);
            }
        }
        return new Tensor(result, [count, dimension]);
    }

    /// <summary>
    /// Writes image <paramref name="hwc"/> ([h, w, c] uint8, c = 1 or 3) as three [h, w] planes into
    /// <paramref name="chw"/>, each value <c>(v/255 − mean[ch]) / std[ch]</c>; a single channel is repeated
    /// (as converting a grayscale image to RGB does).
    /// </summary>
    public static void ToNormalizedPlanes(ReadOnlySpan<byte> hwc, int h, int w, int c, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, Span<float> chw)
    {
        int plane = h * w;
        for (int ch = 0; ch < 3; ch++)
        {
            int src = c == 1 ? 0 : ch;
            // (v/255 − m)/s computed as v·a + b in double, rounded once.
            float a = (float)(1.0 / (255.0 * std[ch])), b = (float)(-mean[ch] / (double)std[ch]);
            Span<float> dst = chw.Slice(ch * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = hwc[i * c + src] * a + b;
        }
    }

    /// <summary>Fails early with a clear message on channel counts the networks cannot take.</summary>
    public static void RequireGrayOrRgb(ImageDataset images, string network)
    {
        if (images.Channels is not (1 or 3))
            throw new ArgumentException($"{network} takes 1- or 3-channel images; '{images.Name}' has {images.Channels} channels.");
    }
}
