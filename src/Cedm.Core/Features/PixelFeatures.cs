using Cedm.Data;
using Cedm.Tensors;

namespace Cedm.Features;

/// <summary>
/// Raw pixels as features: each image flattened in its stored [H, W, C] order (channels last, as
/// <see cref="ImageDataset.Pixels"/> and NumPy's <c>images.reshape(N, -1)</c>) and scaled to [0, 1] (u / 255).
/// D = H·W·C. Used directly (pixel-space FD) and as the input of <see cref="PcaFeatures"/>.
/// </summary>
public sealed class PixelFeatures(int height, int width, int channels) : IFeatureExtractor
{
    public string Name => "pixels";

    public int Height { get; } = height;
    public int Width { get; } = width;
    public int Channels { get; } = channels;

    public int Dimension => Height * Width * Channels;

    public Tensor Extract(ImageDataset images, IProgress<double>? progress = null)
    {
        RequireShape(images, Height, Width, Channels, Name);
        var data = ToUnitRange(images.Pixels);
        progress?.Report(1);
        return new Tensor(data, [images.Count, Dimension]);
    }

    /// <summary>u / 255 for every byte (row-major [N, H·W·C]).</summary>
    public static float[] ToUnitRange(ReadOnlySpan<byte> pixels)
    {
        var data = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) data[i] = pixels[i] * (1f / 255f);
        return data;
    }

    internal static void RequireShape(ImageDataset images, int height, int width, int channels, string who)
    {
        if (images.Height != height || images.Width != width || images.Channels != channels)
            throw new ArgumentException($"{who}: expects {height}x{width}x{channels} images (HxWxC); {images.Name} has {images.Height}x{images.Width}x{images.Channels}");
    }
}
