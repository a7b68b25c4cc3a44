namespace Cedm.Tensors.Kernels;

/// <summary>
/// Window geometry of a square-kernel 2-D pooling (PyTorch semantics, ceil_mode=False): output
/// ⌊(H + 2p − k)/s⌋ + 1; window rows [oy·s − p, oy·s − p + k) clipped to the image.
/// </summary>
internal readonly record struct PoolGeometry(int H, int W, int Kernel, int Stride, int Padding)
{
    public int OutH => (H + 2 * Padding - Kernel) / Stride + 1;
    public int OutW => (W + 2 * Padding - Kernel) / Stride + 1;

    /// <summary>Clipped window [lo, hi) along an axis of length <paramref name="size"/> for output index <paramref name="o"/>.</summary>
    public (int Lo, int Hi) Window(int o, int size)
    {
        int start = o * Stride - Padding;
        return (Math.Max(start, 0), Math.Min(start + Kernel, size));
    }
}

/// <summary>
/// Max and average pooling over one [H, W] plane (Inception-v3's stem and block pools, spec §6.1); the Tensor
/// methods run them over all N·C planes. Max pooling treats padding as −∞ (never selected); average pooling
/// divides by k² (count_include_pad) or by the number of in-image pixels in the window.
/// </summary>
internal static class Pooling
{
    public static void MaxForward(in PoolGeometry g, ReadOnlySpan<float> src, Span<float> dst)
    {
        int oh = g.OutH, ow = g.OutW;
        for (int oy = 0; oy < oh; oy++)
        {
            var (y0, y1) = g.Window(oy, g.H);
            for (int ox = 0; ox < ow; ox++)
            {
                var (x0, x1) = g.Window(ox, g.W);
                float m = float.NegativeInfinity;
                for (int y = y0; y < y1; y++)
                {
                    ReadOnlySpan<float> row = src.Slice(y * g.W, g.W);
                    for (int x = x0; x < x1; x++)
                        if (row[x] > m || float.IsNaN(row[x])) m = row[x];
                }
                dst[oy * ow + ox] = m;
            }
        }
    }

    /// <summary>Routes each output gradient to the first maximal input of its window (PyTorch's tie rule); gIn is overwritten.</summary>
    public static void MaxBackward(in PoolGeometry g, ReadOnlySpan<float> src, ReadOnlySpan<float> gOut, Span<float> gIn)
    {
        gIn.Clear();
        int oh = g.OutH, ow = g.OutW;
        for (int oy = 0; oy < oh; oy++)
        {
            var (y0, y1) = g.Window(oy, g.H);
            for (int ox = 0; ox < ow; ox++)
            {
                var (x0, x1) = g.Window(ox, g.W);
                // Same selection rule as the forward pass: strictly greater wins, a NaN wins and stays.
                float m = float.NegativeInfinity;
                int arg = -1;
                for (int y = y0; y < y1 && !float.IsNaN(m); y++)
                    for (int x = x0; x < x1; x++)
                    {
                        float v = src[y * g.W + x];
                        if (arg < 0 || v > m || float.IsNaN(v)) { m = v; arg = y * g.W + x; }
                        if (float.IsNaN(v)) break;
                    }
                if (arg >= 0) gIn[arg] += gOut[oy * ow + ox];
            }
        }
    }

    public static void AvgForward(in PoolGeometry g, bool countIncludePad, ReadOnlySpan<float> src, Span<float> dst)
    {
        int oh = g.OutH, ow = g.OutW;
        for (int oy = 0; oy < oh; oy++)
        {
            var (y0, y1) = g.Window(oy, g.H);
            for (int ox = 0; ox < ow; ox++)
            {
                var (x0, x1) = g.Window(ox, g.W);
                float s = 0f;
                for (int y = y0; y < y1; y++)
                {
                    ReadOnlySpan<float> row = src.Slice(y * g.W, g.W);
                    for (int x = x0; x < x1; x++) s += row[x];
                }
                dst[oy * ow + ox] = s / Divisor(g, countIncludePad, y0, y1, x0, x1);
            }
        }
    }

    /// <summary>Adjoint of <see cref="AvgForward"/>: each output gradient spreads evenly (by the same divisor) over its window; gIn is overwritten.</summary>
    public static void AvgBackward(in PoolGeometry g, bool countIncludePad, ReadOnlySpan<float> gOut, Span<float> gIn)
    {
        gIn.Clear();
        int oh = g.OutH, ow = g.OutW;
        for (int oy = 0; oy < oh; oy++)
        {
            var (y0, y1) = g.Window(oy, g.H);
            for (int ox = 0; ox < ow; ox++)
            {
                var (x0, x1) = g.Window(ox, g.W);
                float v = gOut[oy * ow + ox] / Divisor(g, countIncludePad, y0, y1, x0, x1);
                for (int y = y0; y < y1; y++)
                {
                    Span<float> row = gIn.Slice(y * g.W, g.W);
                    for (int x = x0; x < x1; x++) row[x] += v;
                }
            }
        }
    }

    /// <summary>
    /// With ceil_mode off every window lies inside the padded image, so count_include_pad divides by k²;
    /// otherwise by the in-image pixel count (pytorch-fid's FID blocks use the latter).
    /// </summary>
    private static float Divisor(in PoolGeometry g, bool countIncludePad, int y0, int y1, int x0, int x1) =>
        countIncludePad ? g.Kernel * g.Kernel : Math.Max(1, (y1 - y0) * (x1 - x0));
}
