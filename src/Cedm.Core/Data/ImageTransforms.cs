using Cedm.Tensors;

namespace Cedm.Data;

/// <summary>
/// Resize (area / bilinear, separable), centre crop and padding of uint8 [H, W, C] images. The resize weights
/// are computed once per axis; each output sample is a weighted sum of input samples, rounded to nearest.
/// </summary>
public static class ImageTransforms
{
    /// <summary>Applies <paramref name="options"/> to every image of <paramref name="dataset"/> (in parallel).</summary>
    public static ImageDataset Apply(ImageDataset dataset, TransformOptions options)
    {
        options.Validate();
        if (options.IsIdentity) return dataset;
        var (outH, outW) = options.OutputSize(dataset.Height, dataset.Width);
        int outSize = outH * outW * dataset.Channels;
        var pixels = new byte[(long)dataset.Count * outSize];
        Parallel.For(0, dataset.Count, EnginePolicy.Current.ParallelOptions, n =>
        {
            byte[] image = Apply(dataset.Image(n), dataset.Height, dataset.Width, dataset.Channels, options);
            image.CopyTo(pixels, (long)n * outSize);
        });
        return new ImageDataset(dataset.Name, pixels, dataset.Count, outH, outW, dataset.Channels, dataset.Labels, dataset.LabelNames);
    }

    /// <summary>Applies <paramref name="options"/> to one image [height, width, channels].</summary>
    public static byte[] Apply(ReadOnlySpan<byte> image, int height, int width, int channels, TransformOptions options)
    {
        byte[] result = image.ToArray();
        if (options.Resolution is int r)
        {
            // Scale the shorter side to r (keeping the aspect ratio), then cut the centre r x r.
            double scale = (double)r / Math.Min(height, width);
            int h = Math.Max(r, (int)Math.Round(height * scale)), w = Math.Max(r, (int)Math.Round(width * scale));
            result = Resize(result, height, width, channels, h, w);
            result = CenterCrop(result, h, w, channels, r, r);
            (height, width) = (r, r);
        }
        if (options.Pad > 0) result = Pad(result, height, width, channels, options.Pad, options.PadValue);
        return result;
    }

    /// <summary>Resizes [height, width, C] to [newHeight, newWidth, C]: area averaging along an axis that shrinks, bilinear along one that grows.</summary>
    public static byte[] Resize(ReadOnlySpan<byte> image, int height, int width, int channels, int newHeight, int newWidth)
    {
        if (height == newHeight && width == newWidth) return image.ToArray();
        var wx = AxisWeights(width, newWidth);
        var wy = AxisWeights(height, newHeight);

        // Horizontal pass: [height, width, C] -> float [height, newWidth, C].
        var rows = new float[height * newWidth * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < newWidth; x++)
                foreach (var (src, weight) in wx[x])
                    for (int c = 0; c < channels; c++)
                        rows[(y * newWidth + x) * channels + c] += weight * image[(y * width + src) * channels + c];

        // Vertical pass: -> uint8 [newHeight, newWidth, C].
        var result = new byte[newHeight * newWidth * channels];
        int stride = newWidth * channels;
        for (int y = 0; y < newHeight; y++)
            for (int i = 0; i < stride; i++)
            {
                float v = 0;
                foreach (var (src, weight) in wy[y]) v += weight * rows[src * stride + i];
                result[y * stride + i] = (byte)Math.Clamp(MathF.Round(v), 0f, 255f);
            }
        return result;
    }

    /// <summary>
    /// For each output index along one axis, the contributing input indices and weights (summing to 1).
    /// Shrinking: output i averages the input interval [i s, (i + 1) s), s = in / out, weighting partial pixels
    /// by their overlap (area averaging). Growing: bilinear at the pixel-centre position (i + 0.5) s - 0.5,
    /// clamped at the borders (as OpenCV INTER_LINEAR and PIL do).
    /// </summary>
    public static (int Source, float Weight)[][] AxisWeights(int inSize, int outSize)
    {
        double s = (double)inSize / outSize;
        var weights = new (int, float)[outSize][];
        for (int i = 0; i < outSize; i++)
        {
            if (inSize == outSize)
            {
                weights[i] = [(i, 1f)];
            }
            else if (inSize > outSize)
            {
                double start = i * s, end = (i + 1) * s;
                var list = new List<(int, float)>();
                for (int j = (int)Math.Floor(start); j < Math.Min(inSize, (int)Math.Ceiling(end)); j++)
                {
                    double overlap = Math.Min(end, j + 1) - Math.Max(start, j);
                    if (overlap > 1e-9) list.Add((j, (float)(overlap / s)));
                }
                weights[i] = [.. list];
            }
            else
            {
                double pos = Math.Clamp((i + 0.5) * s - 0.5, 0, inSize - 1);
                int j0 = (int)Math.Floor(pos), j1 = Math.Min(j0 + 1, inSize - 1);
                float f = (float)(pos - j0);
                weights[i] = j1 == j0 || f == 0 ? [(j0, 1f)] : [(j0, 1f - f), (j1, f)];
            }
        }
        return weights;
    }

    /// <summary>Cuts the centre [newHeight, newWidth] out of [height, width, C] (odd margins leave the extra pixel at the bottom/right).</summary>
    public static byte[] CenterCrop(ReadOnlySpan<byte> image, int height, int width, int channels, int newHeight, int newWidth)
    {
        if (newHeight > height || newWidth > width)
            throw new ArgumentException($"cannot crop {height}x{width} to {newHeight}x{newWidth}");
        int top = (height - newHeight) / 2, left = (width - newWidth) / 2;
        var result = new byte[newHeight * newWidth * channels];
        for (int y = 0; y < newHeight; y++)
            image.Slice(((top + y) * width + left) * channels, newWidth * channels).CopyTo(result.AsSpan(y * newWidth * channels));
        return result;
    }

    /// <summary>Adds <paramref name="pad"/> pixels of <paramref name="value"/> on every side of [height, width, C].</summary>
    public static byte[] Pad(ReadOnlySpan<byte> image, int height, int width, int channels, int pad, byte value = 0)
    {
        int newWidth = width + 2 * pad;
        var result = new byte[(height + 2 * pad) * newWidth * channels];
        if (value != 0) result.AsSpan().Fill(value);
        for (int y = 0; y < height; y++)
            image.Slice(y * width * channels, width * channels).CopyTo(result.AsSpan(((y + pad) * newWidth + pad) * channels));
        return result;
    }
}
