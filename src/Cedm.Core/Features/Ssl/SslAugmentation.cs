using Cedm.Data;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Features.Ssl;

/// <summary>
/// Random views of stored images for SimCLR (see <see cref="SslAugmentOptions"/>), written as NCHW float32 in
/// [−1, 1] at the stored size. Each view draws from its own generator seeded by (seed, view number), so a batch
/// is the same whatever the thread count and views can be made in parallel.
/// </summary>
public sealed class SslAugmentation(SslAugmentOptions options)
{
    public SslAugmentOptions Options { get; } = options;

    /// <summary>
    /// Views of images <paramref name="indices"/> into [indices.Length, C, H, W]; view i uses generator
    /// (<paramref name="seed"/>, <paramref name="firstView"/> + i).
    /// </summary>
    public Tensor Views(ImageDataset images, IReadOnlyList<int> indices, ulong seed, long firstView)
    {
        int n = indices.Count, h = images.Height, w = images.Width, c = images.Channels;
        var data = new float[(long)n * c * h * w];
        Parallelism.ForEach(n, (long)c * h * w * 8, i =>
            View(images, indices[i], new Rng(ViewSeed(seed, firstView + i)), data.AsSpan(i * c * h * w, c * h * w)));
        return new Tensor(data, [n, c, h, w]);
    }

    /// <summary>A well-mixed seed per view (SplitMix64 finaliser of seed ⊕ golden-ratio multiple of the view number).</summary>
    public static ulong ViewSeed(ulong seed, long view)
    {
        ulong z = seed ^ unchecked((ulong)view * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>One view of image <paramref name="index"/> into <paramref name="dst"/> ([C, H, W], [−1, 1]).</summary>
    public void View(ImageDataset images, int index, Rng rng, Span<float> dst)
    {
        int h = images.Height, w = images.Width, c = images.Channels;
        var src = images.Image(index);
        var (top, left, ch, cw) = CropBox(h, w, rng);
        bool flip = rng.NextDouble() < Options.FlipProbability;
        float gain = 1, offset = 0;
        if (rng.NextDouble() < Options.JitterProbability)
        {
            gain = (float)(1 + Options.Contrast * (2 * rng.NextDouble() - 1));
            offset = (float)(Options.Brightness * (2 * rng.NextDouble() - 1));
        }
        float sigma = rng.NextDouble() < Options.NoiseProbability ? (float)(Options.MaxNoise * rng.NextDouble()) : 0f;
        double sy = ch / h, sx = cw / w;
        for (int y = 0; y < h; y++)
        {
            // Bilinear sampling at pixel centres of the crop box, clamped to the image edge.
            double fy = Math.Clamp(top + (y + 0.5) * sy - 0.5, 0, h - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, h - 1);
            float wy = (float)(fy - y0);
            for (int x = 0; x < w; x++)
            {
                int xo = flip ? w - 1 - x : x;
                double fx = Math.Clamp(left + (x + 0.5) * sx - 0.5, 0, w - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, w - 1);
                float wx = (float)(fx - x0);
                for (int k = 0; k < c; k++)
                {
                    float a = src[(y0 * w + x0) * c + k], b = src[(y0 * w + x1) * c + k];
                    float d = src[(y1 * w + x0) * c + k], e = src[(y1 * w + x1) * c + k];
                    float v = ((1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * d + wx * e)) * (1f / 255f);
                    v = Math.Clamp(v * gain + offset, 0f, 1f);
                    dst[(k * h + y) * w + xo] = 2 * v - 1;
                }
            }
        }
        if (sigma > 0)
            for (int i = 0; i < dst.Length; i++) dst[i] += 2 * sigma * (float)rng.NextNormal();
    }

    /// <summary>Random resized crop box (top, left, height, width) in pixels; the whole image after 10 failed draws.</summary>
    private (double Top, double Left, double Height, double Width) CropBox(int h, int w, Rng rng)
    {
        double area = (double)h * w, logLo = Math.Log(Options.MinRatio), logHi = Math.Log(Options.MaxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (Options.MinScale + (Options.MaxScale - Options.MinScale) * rng.NextDouble());
            double ratio = Math.Exp(logLo + (logHi - logLo) * rng.NextDouble());
            double cw = Math.Sqrt(target * ratio), ch = Math.Sqrt(target / ratio);
            if (cw <= w && ch <= h && cw >= 1 && ch >= 1)
                return ((h - ch) * rng.NextDouble(), (w - cw) * rng.NextDouble(), ch, cw);
        }
        return (0, 0, h, w);
    }
}
