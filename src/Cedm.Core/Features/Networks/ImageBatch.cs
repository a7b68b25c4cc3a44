using Cedm.Data;

namespace Cedm.Features.Networks;

/// <summary>Turns uint8 [H, W, C] images into float planes for the pretrained networks (gray → 3 channels).</summary>
public static class ImageBatch
{
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
