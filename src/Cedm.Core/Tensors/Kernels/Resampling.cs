namespace Cedm.Tensors.Kernels;

/// <summary>
/// Span kernels for SongUNet's resampling filters (spec §2.1) and constant padding, per [H, W] plane;
/// the Tensor methods run them over all N·C planes in parallel.
/// </summary>
internal static class Resampling
{
    /// <summary>Nearest ×2: out[2y+i, 2x+j] = in[y, x] (the "up" filter: transposed conv with a 2×2 all-ones kernel, stride 2).</summary>
    public static void Upsample2x(ReadOnlySpan<float> src, int h, int w, Span<float> dst)
    {
        int w2 = 2 * w;
        for (int y = 0; y < h; y++)
        {
            ReadOnlySpan<float> s = src.Slice(y * w, w);
            Span<float> d0 = dst.Slice(2 * y * w2, w2);
            for (int x = 0; x < w; x++) { float v = s[x]; d0[2 * x] = v; d0[2 * x + 1] = v; }
            d0.CopyTo(dst.Slice((2 * y + 1) * w2, w2));
        }
    }

    /// <summary>Adjoint of <see cref="Upsample2x"/>: each input pixel's gradient is the sum of its 2×2 block.</summary>
    public static void Upsample2xBackward(ReadOnlySpan<float> gOut, int h, int w, Span<float> gIn)
    {
        int w2 = 2 * w;
        for (int y = 0; y < h; y++)
        {
            ReadOnlySpan<float> r0 = gOut.Slice(2 * y * w2, w2), r1 = gOut.Slice((2 * y + 1) * w2, w2);
            Span<float> d = gIn.Slice(y * w, w);
            for (int x = 0; x < w; x++) d[x] = (r0[2 * x] + r0[2 * x + 1]) + (r1[2 * x] + r1[2 * x + 1]);
        }
    }

    /// <summary>2×2 mean, stride 2, over an h×w plane (h, w may be odd: the last row/column is dropped, as in PyTorch).</summary>
    public static void AvgPool2x(ReadOnlySpan<float> src, int h, int w, Span<float> dst)
    {
        int oh = h / 2, ow = w / 2;
        for (int y = 0; y < oh; y++)
        {
            ReadOnlySpan<float> r0 = src.Slice(2 * y * w, w), r1 = src.Slice((2 * y + 1) * w, w);
            Span<float> d = dst.Slice(y * ow, ow);
            for (int x = 0; x < ow; x++) d[x] = 0.25f * ((r0[2 * x] + r0[2 * x + 1]) + (r1[2 * x] + r1[2 * x + 1]));
        }
    }

    /// <summary>Adjoint of <see cref="AvgPool2x"/>: each output gradient spreads a quarter to its 2×2 block (dropped pixels get 0).</summary>
    public static void AvgPool2xBackward(ReadOnlySpan<float> gOut, int h, int w, Span<float> gIn)
    {
        int oh = h / 2, ow = w / 2;
        if ((h & 1) != 0 || (w & 1) != 0) gIn.Clear();
        for (int y = 0; y < oh; y++)
        {
            ReadOnlySpan<float> s = gOut.Slice(y * ow, ow);
            Span<float> d0 = gIn.Slice(2 * y * w, w), d1 = gIn.Slice((2 * y + 1) * w, w);
            for (int x = 0; x < ow; x++)
            {
                float v = 0.25f * s[x];
                d0[2 * x] = v; d0[2 * x + 1] = v; d1[2 * x] = v; d1[2 * x + 1] = v;
            }
        }
    }

    /// <summary>Copies an h×w plane into the interior of a (top+h+bottom)×(left+w+right) plane filled with <paramref name="value"/>.</summary>
    public static void Pad(ReadOnlySpan<float> src, int h, int w, int top, int left, int outW, float value, Span<float> dst)
    {
        dst.Fill(value);
        for (int y = 0; y < h; y++) src.Slice(y * w, w).CopyTo(dst.Slice((top + y) * outW + left, w));
    }

    /// <summary>Adjoint of <see cref="Pad"/>: the interior of the padded gradient.</summary>
    public static void PadBackward(ReadOnlySpan<float> gOut, int h, int w, int top, int left, int outW, Span<float> gIn)
    {
        for (int y = 0; y < h; y++) gOut.Slice((top + y) * outW + left, w).CopyTo(gIn.Slice(y * w, w));
    }
}
