using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Imaging;

/// <summary>
/// Pillow's <c>Image.resize</c> for 8-bit images, reproduced exactly: the reference feature pipelines (DINO/TEMI,
/// spec §4.1; dgm-eval's DINOv2, §6.2) resize PIL images with torchvision's <c>Resize(..., BICUBIC)</c>, i.e. Pillow.
/// Pillow builds the antialiased filter taps (<see cref="ResizeAxis.AntialiasedTaps"/>), converts them to
/// 22-bit fixed point (rounding half away from zero), resamples horizontally first into an intermediate uint8
/// image (round half up, clip to [0, 255]), then vertically the same way. An axis whose size does not change is
/// not resampled. Images are [H, W, C] uint8, channels interleaved.
/// </summary>
public static class PilResize
{
    private const int PrecisionBits = 32 - 8 - 2;

    public static byte[] Resize(ReadOnlySpan<byte> image, int height, int width, int channels, int newHeight, int newWidth,
        ResizeFilter filter = ResizeFilter.Bicubic)
    {
        if (height < 1 || width < 1 || channels < 1 || newHeight < 1 || newWidth < 1)
            throw new ArgumentException($"PilResize: sizes must be positive (image {height}x{width}x{channels} → {newHeight}x{newWidth}).");
        if (image.Length != height * width * channels)
            throw new ArgumentException($"PilResize: image has {image.Length} bytes, expected {height}x{width}x{channels}.");
        byte[] current = image.ToArray();
        if (newWidth != width)
        {
            var taps = FixedPointTaps(width, newWidth, filter);
            var next = new byte[height * newWidth * channels];
            for (int y = 0; y < height; y++)
                Resample(current, y * width * channels, channels, taps, next, y * newWidth * channels, channels, channels);
            current = next;
        }
        if (newHeight != height)
        {
            // Vertical pass: the same 1-D resampling with the row stride as the element stride.
            int rowLen = newWidth * channels;
            var taps = FixedPointTaps(height, newHeight, filter);
            var next = new byte[newHeight * rowLen];
            for (int i = 0; i < rowLen; i++)
                Resample(current, i, rowLen, taps, next, i, rowLen, lanes: 1);
            current = next;
        }
        return current;
    }

    /// <summary>Per output index: first input index and the 22-bit fixed-point weights.</summary>
    private static (int Lo, int[] K)[] FixedPointTaps(int inSize, int outSize, ResizeFilter filter)
    {
        double scale = (double)inSize / outSize;
        var taps = new (int, int[])[outSize];
        for (int i = 0; i < outSize; i++)
        {
            var (lo, w) = ResizeAxis.AntialiasedTaps(i, inSize, filter, scale);
            var k = new int[w.Length];
            for (int j = 0; j < w.Length; j++)
                k[j] = (int)(w[j] < 0 ? -0.5 + w[j] * (1 << PrecisionBits) : 0.5 + w[j] * (1 << PrecisionBits));
            taps[i] = (lo, k);
        }
        return taps;
    }

    /// <summary>
    /// One line: for each output o and lane c, dst[dstOff + o·dstStep + c] = clip8(Σ_j k_j·src[srcOff + (lo + j)·step + c]).
    /// Rows: step = channels, lanes = channels. Columns: step = row length, lanes = 1.
    /// </summary>
    private static void Resample(byte[] src, int srcOff, int step, (int Lo, int[] K)[] taps, byte[] dst, int dstOff, int dstStep, int lanes)
    {
        for (int o = 0; o < taps.Length; o++)
        {
            var (lo, k) = taps[o];
            for (int c = 0; c < lanes; c++)
            {
                long ss = 1L << (PrecisionBits - 1); // rounds the final shift half up
                for (int j = 0; j < k.Length; j++) ss += src[srcOff + (lo + j) * step + c] * (long)k[j];
                dst[dstOff + o * dstStep + c] = Clip8(ss);
            }
        }
    }

    private static byte Clip8(long v) => v >= (255L + 1) << PrecisionBits ? (byte)255 : v <= 0 ? (byte)0 : (byte)(v >> PrecisionBits);
}
