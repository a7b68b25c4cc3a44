namespace Cedm.Data;

/// <summary>
/// N images held in memory as uint8 <see cref="Pixels"/> [N, H, W, C] (row-major, channels last, as the
/// files store them), optional integer labels, and a name. This is the one place where images are turned into
/// the training range: float [N, C, H, W] with x = u / 127.5 - 1 (EDM, Karras et al. 2022, section 1.1 of
/// our spec), and back with EDM's generate.py rule u = clip(floor(x * 127.5 + 128), 0, 255).
/// </summary>
public sealed class ImageDataset
{
    public ImageDataset(string name, byte[] pixels, int count, int height, int width, int channels,
        long[]? labels = null, IReadOnlyList<string>? labelNames = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), channels, "expected 1..4");
        long expected = (long)count * height * width * channels;
        if (pixels.LongLength != expected)
            throw new ArgumentException($"{name}: pixels has {pixels.LongLength} bytes, expected N x H x W x C = {count}x{height}x{width}x{channels} = {expected}", nameof(pixels));
        if (labels is not null && labels.Length != count)
            throw new ArgumentException($"{name}: {labels.Length} labels for {count} images", nameof(labels));
        Name = name;
        Pixels = pixels;
        Count = count;
        Height = height;
        Width = width;
        Channels = channels;
        Labels = labels;
        LabelNames = labelNames;
    }

    public string Name { get; }

    /// <summary>uint8 images [N, H, W, C].</summary>
    public byte[] Pixels { get; }

    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }

    /// <summary>One label per image, or null for an unlabelled collection.</summary>
    public long[]? Labels { get; }

    /// <summary>Names of labels 0, 1, ... when the source has them (class names, folder names), else null.</summary>
    public IReadOnlyList<string>? LabelNames { get; }

    /// <summary>H * W * C: bytes per image.</summary>
    public int ImageSize => Height * Width * Channels;

    /// <summary>Image <paramref name="index"/> as [H, W, C].</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * ImageSize, ImageSize);
    }

    /// <summary>The distinct labels in increasing order with their counts (empty when unlabelled).</summary>
    public SortedDictionary<long, int> LabelCounts()
    {
        var counts = new SortedDictionary<long, int>();
        foreach (long label in Labels ?? [])
            counts[label] = counts.GetValueOrDefault(label) + 1;
        return counts;
    }

    /// <summary>The images (and labels) at <paramref name="indices"/>, in that order.</summary>
    public ImageDataset Select(IReadOnlyList<int> indices, string? name = null)
    {
        var pixels = new byte[(long)indices.Count * ImageSize];
        var labels = Labels is null ? null : new long[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            Image(indices[k]).CopyTo(pixels.AsSpan(k * ImageSize));
            if (labels is not null) labels[k] = Labels![indices[k]];
        }
        return new ImageDataset(name ?? Name, pixels, indices.Count, Height, Width, Channels, labels, LabelNames);
    }

    /// <summary>Per-channel mean and standard deviation of the uint8 values (0..255), over all images.</summary>
    public (double[] Mean, double[] Std) ChannelStatistics()
    {
        var sum = new long[Channels];
        var sumSquares = new double[Channels];
        for (long i = 0; i < Pixels.LongLength; i++)
        {
            int c = (int)(i % Channels);
            int v = Pixels[i];
            sum[c] += v;
            sumSquares[c] += v * v;
        }
        double n = Math.Max(1.0, (double)Count * Height * Width);
        var mean = sum.Select(s => s / n).ToArray();
        var std = sumSquares.Select((sq, c) => Math.Sqrt(Math.Max(0, sq / n - mean[c] * mean[c]))).ToArray();
        return (mean, std);
    }

    /// <summary>All images in the training range, float [N, C, H, W], x = u / 127.5 - 1.</summary>
    public float[] ToTrainingRange() => ToTrainingRange(0, Count);

    /// <summary>Images start .. start + count - 1 in the training range, float [count, C, H, W].</summary>
    public float[] ToTrainingRange(int start, int count)
    {
        var x = new float[(long)count * ImageSize];
        ToTrainingRange(start, count, x);
        return x;
    }

    /// <summary>Writes images start .. start + count - 1 into <paramref name="destination"/> [count, C, H, W].</summary>
    public void ToTrainingRange(int start, int count, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + count > Count) throw new ArgumentOutOfRangeException(nameof(count), $"images {start}..{start + count - 1} requested, dataset has {Count}");
        if (destination.Length < (long)count * ImageSize)
            throw new ArgumentException($"destination holds {destination.Length} floats, need {count}x{Channels}x{Height}x{Width}", nameof(destination));
        int plane = Height * Width;
        for (int n = 0; n < count; n++)
        {
            var image = Image(start + n);                               // [H, W, C]
            var dst = destination.Slice(n * ImageSize, ImageSize);      // [C, H, W]
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < Channels; c++)
                    dst[c * plane + p] = image[p * Channels + c] / 127.5f - 1f;
        }
    }

    /// <summary>
    /// Turns training-range images x [N, C, H, W] back into uint8 [N, H, W, C]:
    /// u = clip(floor(x * 127.5 + 128), 0, 255), as EDM's generate.py does (NaN becomes 0).
    /// </summary>
    public static byte[] FromTrainingRange(ReadOnlySpan<float> x, int count, int channels, int height, int width)
    {
        int plane = height * width, size = plane * channels;
        if (x.Length != (long)count * size)
            throw new ArgumentException($"x has {x.Length} floats, expected [N, C, H, W] = {count}x{channels}x{height}x{width}", nameof(x));
        var u = new byte[x.Length];
        for (int n = 0; n < count; n++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++)
                {
                    float v = MathF.Floor(x[n * size + c * plane + p] * 127.5f + 128f);
                    u[n * size + p * channels + c] = float.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(v, 0f, 255f);
                }
        return u;
    }
}
