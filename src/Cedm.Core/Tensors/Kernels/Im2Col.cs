namespace Cedm.Tensors.Kernels;

/// <summary>
/// im2col / col2im for one sample. The column matrix has ColRows = Cin·Kh·Kw rows, row r = (ci·Kh + ky)·Kw + kx
/// (the weight's own flattening order, so W[Cout, Cin·Kh·Kw] multiplies it directly), and OutH·OutW columns:
/// cols[r, oy·OutW + ox] = x[ci, oy·s − p + ky, ox·s − p + kx], zero outside the image.
/// Rows are <c>ld</c> floats apart so several samples can sit side by side in one wide matrix.
/// </summary>
internal static class Im2Col
{
    /// <summary>Fills the ColRows × OutPixels matrix <paramref name="cols"/> (row stride <paramref name="ld"/>) from one sample.</summary>
    public static void Pack(in Conv2dGeometry g, ReadOnlySpan<float> x, Span<float> cols, int ld) => Pack(g, x, cols, ld, 0, g.OutH);

    /// <summary>
    /// Only the columns of output rows [<paramref name="oy0"/>, <paramref name="oy1"/>): column (oy − oy0)·OutW + ox.
    /// Lets the drivers work in bands whose column block stays in L2 while the GEMM packs it.
    /// </summary>
    public static unsafe void Pack(in Conv2dGeometry g, ReadOnlySpan<float> x, Span<float> cols, int ld, int oy0, int oy1)
    {
        int ow = g.OutW, sh = g.StrideH, sw = g.StrideW, bandPixels = (oy1 - oy0) * ow;
        if (bandPixels <= 0) return;
        // Bounds are established here once; the per-row work is a few tiny copies, where span slicing
        // overhead measured as large as the copying itself (~18k rows per 64-channel 3×3 32×32 sample).
        long needCols = (long)(g.ColRows - 1) * ld + bandPixels;
        if (cols.Length < needCols || x.Length < g.Cin * g.InPixels)
            throw new ArgumentException($"Im2Col.Pack: buffers too small for {g} (cols {cols.Length} < {needCols} or x {x.Length}).");
        fixed (float* px = x)
        fixed (float* pc = cols)
        {
            for (int ci = 0; ci < g.Cin; ci++)
            {
                float* plane = px + (long)ci * g.InPixels;
                for (int ky = 0; ky < g.Kh; ky++)
                    for (int kx = 0; kx < g.Kw; kx++)
                    {
                        float* row = pc + (long)((ci * g.Kh + ky) * g.Kw + kx) * ld;
                        (int lo, int hi) = ValidRange(kx, g.PadW, sw, g.W, ow);
                        int ix0 = lo * sw - g.PadW + kx;
                        for (int oy = oy0; oy < oy1; oy++)
                        {
                            float* dst = row + (oy - oy0) * ow;
                            int iy = oy * sh - g.PadH + ky;
                            if ((uint)iy >= (uint)g.H || lo >= hi)
                            {
                                new Span<float>(dst, ow).Clear();
                                continue;
                            }
                            for (int i = 0; i < lo; i++) dst[i] = 0f;
                            for (int i = hi; i < ow; i++) dst[i] = 0f;
                            float* src = plane + iy * g.W + ix0;
                            if (sw == 1)
                                Buffer.MemoryCopy(src, dst + lo, (hi - lo) * sizeof(float), (hi - lo) * sizeof(float));
                            else
                                for (int ox = lo; ox < hi; ox++, src += sw) dst[ox] = *src;
                        }
                    }
            }
        }
    }

    /// <summary>Adds every column entry back onto the pixel it came from (the adjoint of <see cref="Pack(in Conv2dGeometry, ReadOnlySpan{float}, Span{float}, int)"/>); dx is accumulated into.</summary>
    public static void Unpack(in Conv2dGeometry g, ReadOnlySpan<float> cols, int ld, Span<float> dx)
    {
        int oh = g.OutH, ow = g.OutW, sh = g.StrideH, sw = g.StrideW;
        for (int ci = 0; ci < g.Cin; ci++)
        {
            Span<float> plane = dx.Slice(ci * g.InPixels, g.InPixels);
            for (int ky = 0; ky < g.Kh; ky++)
                for (int kx = 0; kx < g.Kw; kx++)
                {
                    ReadOnlySpan<float> row = cols.Slice(((ci * g.Kh + ky) * g.Kw + kx) * ld, g.OutPixels);
                    (int lo, int hi) = ValidRange(kx, g.PadW, sw, g.W, ow);
                    if (lo >= hi) continue;
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * sh - g.PadH + ky;
                        if ((uint)iy >= (uint)g.H) continue;
                        ReadOnlySpan<float> src = row.Slice(oy * ow, ow);
                        Span<float> dst = plane.Slice(iy * g.W, g.W);
                        int ix0 = lo * sw - g.PadW + kx;
                        if (sw == 1)
                        {
                            Span<float> d = dst.Slice(ix0, hi - lo);
                            System.Numerics.Tensors.TensorPrimitives.Add(d, src[lo..hi], d);
                        }
                        else
                            for (int ox = lo, ix = ix0; ox < hi; ox++, ix += sw) dst[ix] += src[ox];
                    }
                }
        }
    }

    /// <summary>Output columns [lo, hi) whose input column ox·s − p + k lies inside [0, width).</summary>
    private static (int lo, int hi) ValidRange(int k, int pad, int stride, int width, int outWidth)
    {
        // ix ≥ 0 ⇔ ox ≥ (p − k)/s (rounded up); ix ≤ width−1 ⇔ ox ≤ (width − 1 + p − k)/s (rounded down).
        int lo = pad - k <= 0 ? 0 : (pad - k + stride - 1) / stride;
        int top = width - 1 + pad - k;
        int hi = top < 0 ? 0 : Math.Min(outWidth, top / stride + 1);
        return (Math.Min(lo, outWidth), hi);
    }
}
