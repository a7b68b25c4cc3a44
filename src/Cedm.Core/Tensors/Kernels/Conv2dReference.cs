namespace Cedm.Tensors.Kernels;

/// <summary>
/// The plain direct convolution (seven nested loops), forward and backward: slow, obviously correct,
/// and the oracle the im2col/GEMM kernels in <see cref="Conv2dKernels"/> are tested against.
/// Sums run in double so the oracle's own rounding is negligible next to the fast path's.
/// </summary>
internal static class Conv2dReference
{
    /// <summary>y[n,co,oy,ox] = b[co] + Σ_{ci,ky,kx} x[n,ci,oy·s−p+ky, ox·s−p+kx] · w[co,ci,ky,kx] (outside = 0).</summary>
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        int oh = g.OutH, ow = g.OutW;
        for (int n = 0; n < g.N; n++)
            for (int co = 0; co < g.Cout; co++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double s = bias.IsEmpty ? 0 : bias[co];
                        for (int ci = 0; ci < g.Cin; ci++)
                            for (int ky = 0; ky < g.Kh; ky++)
                            {
                                int iy = oy * g.StrideH - g.PadH + ky;
                                if ((uint)iy >= (uint)g.H) continue;
                                for (int kx = 0; kx < g.Kw; kx++)
                                {
                                    int ix = ox * g.StrideW - g.PadW + kx;
                                    if ((uint)ix >= (uint)g.W) continue;
                                    s += (double)x[XIndex(g, n, ci, iy, ix)] * w[WIndex(g, co, ci, ky, kx)];
                                }
                            }
                        y[((n * g.Cout + co) * oh + oy) * ow + ox] = (float)s;
                    }
    }

    /// <summary>
    /// Gradients from dy: dx (may be empty to skip), dw, db (may be empty). Each is computed by looping over
    /// its own elements and gathering, so no accumulation order depends on the forward's loop order.
    /// </summary>
    public static void Backward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dy,
        Span<float> dx, Span<float> dw, Span<float> db)
    {
        int oh = g.OutH, ow = g.OutW;
        if (!dx.IsEmpty)
            for (int n = 0; n < g.N; n++)
                for (int ci = 0; ci < g.Cin; ci++)
                    for (int iy = 0; iy < g.H; iy++)
                        for (int ix = 0; ix < g.W; ix++)
                        {
                            double s = 0;
                            for (int co = 0; co < g.Cout; co++)
                                for (int ky = 0; ky < g.Kh; ky++)
                                {
                                    // iy = oy·s − p + ky  ⇒  oy = (iy + p − ky) / s when that divides exactly.
                                    int t = iy + g.PadH - ky;
                                    if (t < 0 || t % g.StrideH != 0 || t / g.StrideH >= oh) continue;
                                    for (int kx = 0; kx < g.Kw; kx++)
                                    {
                                        int u = ix + g.PadW - kx;
                                        if (u < 0 || u % g.StrideW != 0 || u / g.StrideW >= ow) continue;
                                        s += (double)dy[((n * g.Cout + co) * oh + t / g.StrideH) * ow + u / g.StrideW] * w[WIndex(g, co, ci, ky, kx)];
                                    }
                                }
                            dx[XIndex(g, n, ci, iy, ix)] = (float)s;
                        }
        if (!dw.IsEmpty)
            for (int co = 0; co < g.Cout; co++)
                for (int ci = 0; ci < g.Cin; ci++)
                    for (int ky = 0; ky < g.Kh; ky++)
                        for (int kx = 0; kx < g.Kw; kx++)
                        {
                            double s = 0;
                            for (int n = 0; n < g.N; n++)
                                for (int oy = 0; oy < oh; oy++)
                                {
                                    int iy = oy * g.StrideH - g.PadH + ky;
                                    if ((uint)iy >= (uint)g.H) continue;
                                    for (int ox = 0; ox < ow; ox++)
                                    {
                                        int ix = ox * g.StrideW - g.PadW + kx;
                                        if ((uint)ix >= (uint)g.W) continue;
                                        s += (double)dy[((n * g.Cout + co) * oh + oy) * ow + ox] * x[XIndex(g, n, ci, iy, ix)];
                                    }
                                }
                            dw[WIndex(g, co, ci, ky, kx)] = (float)s;
                        }
        if (!db.IsEmpty)
            for (int co = 0; co < g.Cout; co++)
            {
                double s = 0;
                for (int n = 0; n < g.N; n++)
                    for (int p = 0; p < oh * ow; p++) s += dy[(n * g.Cout + co) * oh * ow + p];
                db[co] = (float)s;
            }
    }

    private static int XIndex(in Conv2dGeometry g, int n, int c, int y, int x) => ((n * g.Cin + c) * g.H + y) * g.W + x;

    private static int WIndex(in Conv2dGeometry g, int co, int ci, int ky, int kx) => ((co * g.Cin + ci) * g.Kh + ky) * g.Kw + kx;
}
