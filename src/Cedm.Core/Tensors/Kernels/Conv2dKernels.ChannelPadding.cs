using System.Buffers;

namespace Cedm.Tensors.Kernels;

// 3×3 stride-1 convs with at least 16 input channels but a channel count that is not a multiple of 16, above all the
// U-Net's last conv (back to the 1–3 image channels). Zero channels pad both sides to multiples of 16 so they run on
// the channels-innermost Winograd path; padded output channels are dropped and padded input channels contribute
// nothing. The wasted multiply-adds are cheap next to im2col with a 1-row GEMM: the tiny net's 32→1 output conv,
// batch 64, forward + backward 21.7 → 6.3 ms (it took 4% of a training step).
internal static partial class Conv2dKernels
{
    private static int RoundUp16(int c) => (c + 15) & ~15;

    /// <summary>The padded geometry when this conv should run padded on the AVX-512 path.</summary>
    private static bool UsePadded(in Conv2dGeometry g, ConvThreading mode, out Conv2dGeometry padded)
    {
        padded = g with { Cin = RoundUp16(g.Cin), Cout = RoundUp16(g.Cout) };
        // Only with ≥ 16 input channels: from 1–3 image channels im2col is cheap (9–27 rows) and measured faster than
        // transforming 16 mostly-zero channels (1→32, batch 64, 32×32: 3.0 vs 5.2 ms forward + backward).
        return (g.Cin % 16 != 0 || g.Cout % 16 != 0) && g.Cin >= 16 && UseHwc(padded, mode);
    }

    /// <summary>dst[n][c] = src[n][c] for c &lt; channels, 0 for the padding channels (planes of <paramref name="plane"/> floats).</summary>
    private static float[] PadChannels(ReadOnlySpan<float> src, int n, int channels, int paddedChannels, int plane)
    {
        var dst = ArrayPool<float>.Shared.Rent(n * paddedChannels * plane);
        for (int i = 0; i < n; i++)
        {
            src.Slice(i * channels * plane, channels * plane).CopyTo(dst.AsSpan(i * paddedChannels * plane));
            dst.AsSpan((i * paddedChannels + channels) * plane, (paddedChannels - channels) * plane).Clear();
        }
        return dst;
    }

    /// <summary>dst[n][c] = src[n][c] for the first <paramref name="channels"/> of <paramref name="paddedChannels"/>.</summary>
    private static void CropChannels(ReadOnlySpan<float> src, int n, int channels, int paddedChannels, int plane, Span<float> dst)
    {
        for (int i = 0; i < n; i++)
            src.Slice(i * paddedChannels * plane, channels * plane).CopyTo(dst.Slice(i * channels * plane));
    }

    /// <summary>w [Cout, Cin, kh, kw] zero-padded to [Cout', Cin', kh, kw] (an exact-length array).</summary>
    private static float[] PadWeights(in Conv2dGeometry g, in Conv2dGeometry p, ReadOnlySpan<float> w)
    {
        int k = g.Kh * g.Kw;
        var wp = new float[p.Cout * p.Cin * k];
        for (int co = 0; co < g.Cout; co++)
            w.Slice(co * g.Cin * k, g.Cin * k).CopyTo(wp.AsSpan(co * p.Cin * k));
        return wp;
    }

    private static void PaddedForward(in Conv2dGeometry g, in Conv2dGeometry p, ConvThreading mode, float[] x, float[] w, float[] bias, float[] y)
    {
        float[] xp = g.Cin == p.Cin ? x : PadChannels(x, g.N, g.Cin, p.Cin, g.InPixels);
        float[] yp = g.Cout == p.Cout ? y : ArrayPool<float>.Shared.Rent(g.N * p.Cout * g.OutPixels);
        float[] bp = bias;
        if (bias.Length > 0 && g.Cout != p.Cout)
        {
            bp = new float[p.Cout];
            bias.CopyTo(bp, 0);
        }
        try
        {
            HwcSamples(p, mode, xp, PadWeights(g, p, w), bp, yp);
            if (yp != y) CropChannels(yp, g.N, g.Cout, p.Cout, g.OutPixels, y);
        }
        finally
        {
            if (xp != x) ArrayPool<float>.Shared.Return(xp);
            if (yp != y) ArrayPool<float>.Shared.Return(yp);
        }
    }

    private static void PaddedBackward(in Conv2dGeometry g, in Conv2dGeometry p, ConvThreading mode, float[] x, float[] w, float[] dy,
        float[]? dx, float[]? dw, float[]? db)
    {
        float[] xp = g.Cin == p.Cin || dw == null ? x : PadChannels(x, g.N, g.Cin, p.Cin, g.InPixels);
        float[] dyp = g.Cout == p.Cout ? dy : PadChannels(dy, g.N, g.Cout, p.Cout, g.OutPixels);
        float[]? dxp = dx == null || g.Cin == p.Cin ? dx : ArrayPool<float>.Shared.Rent(g.N * p.Cin * g.InPixels);
        float[]? dwp = dw == null ? null : new float[p.Cout * p.Cin * g.Kh * g.Kw];
        float[]? dbp = db == null ? null : new float[p.Cout];
        try
        {
            Backward(p, xp, PadWeights(g, p, w), dyp, dxp, dwp, dbp, mode);
            if (dx != null && dxp != dx) CropChannels(dxp, g.N, g.Cin, p.Cin, g.InPixels, dx);
            if (dw != null)
            {
                int k = g.Kh * g.Kw;
                for (int co = 0; co < g.Cout; co++)
                    dwp.AsSpan(co * p.Cin * k, g.Cin * k).CopyTo(dw.AsSpan(co * g.Cin * k));
            }
            if (db != null) dbp.AsSpan(0, g.Cout).CopyTo(db);
        }
        finally
        {
            if (xp != x) ArrayPool<float>.Shared.Return(xp);
            if (dyp != dy) ArrayPool<float>.Shared.Return(dyp);
            if (dxp != null && dxp != dx) ArrayPool<float>.Shared.Return(dxp);
        }
    }
}
