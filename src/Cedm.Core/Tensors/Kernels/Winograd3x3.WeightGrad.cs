namespace Cedm.Tensors.Kernels;

// Weight gradient of the F(2×2, 3×3) convolution. The forward is y_tile = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, linear in g,
// so ∂L/∂g = Gᵀ [ Σ_tiles (A ∂y_tile Aᵀ) ⊙ (Bᵀ d B) ] G. The tile sum per ξ is a GEMM:
// Z[ξ][co][ci] += Σ_t Mg[ξ][co][t] · V[ξ][ci][t], i.e. Z[ξ] += Mg[ξ] · V[ξ]ᵀ (k = tiles), 16 multiplies per tile
// instead of im2col's 36; the 3×3 back-transform Gᵀ Z G runs once per call after all samples are summed.
// (Tried: writing Mg tile-major so the product is NN instead of NT. The GEMMs got ~25% faster, but the
// transform's scattered stores cost more than that saved.)
// A = (Aᵀ)ᵀ with Aᵀ = [1 1 1 0; 0 1 −1 −1]; Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1].
internal static partial class Winograd3x3
{
    /// <summary>Floats of one Z accumulator: 16 × Cout × Cin.</summary>
    public static int WeightGradFloats(in Conv2dGeometry g) => 16 * g.Cout * g.Cin;

    /// <summary>Z (+)= transforms of one sample (x[Cin, H, W], dy[Cout, OutH, OutW]); scratch as for <see cref="ForwardSample"/>.</summary>
    public static void WeightGradSample(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> z,
        bool accumulate, Span<float> scratch, GemmNT gemm)
    {
        int th = TilesH(g), tw = TilesW(g), t = th * tw;
        int vs = Stride(g.Cin, t), ms = Stride(g.Cout, t);
        Span<float> v = scratch[..(16 * vs)];
        Span<float> m = scratch.Slice(16 * vs, 16 * ms);
        Span<float> planes = scratch[(16 * (vs + ms))..];
        InputTransform(g, x, v, planes, th, tw);
        GradOutputTransform(g, dy, m, th, tw);
        for (int xi = 0; xi < 16; xi++)
            gemm(g.Cout, g.Cin, t, m.Slice(xi * ms, g.Cout * t), v.Slice(xi * vs, g.Cin * t),
                z.Slice(xi * g.Cout * g.Cin, g.Cout * g.Cin), accumulate);
    }

    /// <summary>C[m×n] (+)= A[m×k] · B[n×k]ᵀ, row-major and dense.</summary>
    public delegate void GemmNT(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate);

    /// <summary>Mg[ξ][co][tile] = (A ∂y_tile Aᵀ)[ξ]; output pixels past OutH/OutW (cropped in the forward) count as 0.</summary>
    internal static unsafe void GradOutputTransform(in Conv2dGeometry g, ReadOnlySpan<float> dy, Span<float> m, int th, int tw)
    {
        int t = th * tw, oh = g.OutH, ow = g.OutW;
        long xiStride = Stride(g.Cout, t);
        fixed (float* pd = dy)
        fixed (float* pm = m)
        {
            for (int co = 0; co < g.Cout; co++)
            {
                float* plane = pd + (long)co * oh * ow;
                for (int ty = 0; ty < th; ty++)
                {
                    float* r0 = plane + 2 * ty * ow;
                    bool has1 = 2 * ty + 1 < oh;
                    float* dst = pm + (long)co * t + ty * tw;
                    for (int tx = 0; tx < tw; tx++)
                    {
                        int ox = 2 * tx;
                        bool hasC1 = ox + 1 < ow;
                        float d00 = r0[ox], d01 = hasC1 ? r0[ox + 1] : 0f;
                        float d10 = has1 ? r0[ow + ox] : 0f, d11 = has1 && hasC1 ? r0[ow + ox + 1] : 0f;
                        // Rows of A·d (A rows: (1,0), (1,1), (1,−1), (0,−1)), then the same on columns.
                        float s00 = d00, s01 = d01;
                        float s10 = d00 + d10, s11 = d01 + d11;
                        float s20 = d00 - d10, s21 = d01 - d11;
                        float s30 = -d10, s31 = -d11;
                        float* o = dst + tx;
                        Store4(o, xiStride, 0, s00, s01);
                        Store4(o, xiStride, 1, s10, s11);
                        Store4(o, xiStride, 2, s20, s21);
                        Store4(o, xiStride, 3, s30, s31);
                    }
                }
            }
        }
    }

    private static unsafe void Store4(float* o, long stride, int i, float a, float b)
    {
        o[(4 * i + 0) * stride] = a;
        o[(4 * i + 1) * stride] = a + b;
        o[(4 * i + 2) * stride] = a - b;
        o[(4 * i + 3) * stride] = -b;
    }

    /// <summary>dw[co, ci, 3, 3] = Gᵀ Z[·][co][ci] G (overwrites dw).</summary>
    public static void FinishWeightGrad(int cout, int cin, ReadOnlySpan<float> z, Span<float> dw)
    {
        int s = cout * cin;
        Span<float> zz = stackalloc float[16];
        Span<float> tmp = stackalloc float[12];
        for (int o = 0; o < s; o++)
        {
            for (int xi = 0; xi < 16; xi++) zz[xi] = z[xi * s + o];
            // Rows: Gᵀ·Z (3×4); Gᵀ rows (1, ½, ½, 0), (0, ½, −½, 0), (0, ½, ½, 1).
            for (int j = 0; j < 4; j++)
            {
                float z0 = zz[j], z1 = zz[4 + j], z2 = zz[8 + j], z3 = zz[12 + j];
                tmp[j] = z0 + 0.5f * (z1 + z2);
                tmp[4 + j] = 0.5f * (z1 - z2);
                tmp[8 + j] = 0.5f * (z1 + z2) + z3;
            }
            // Columns: (Gᵀ Z)·G (3×3).
            Span<float> d = dw.Slice(o * 9, 9);
            for (int a = 0; a < 3; a++)
            {
                float t0 = tmp[4 * a], t1 = tmp[4 * a + 1], t2 = tmp[4 * a + 2], t3 = tmp[4 * a + 3];
                d[3 * a] = t0 + 0.5f * (t1 + t2);
                d[3 * a + 1] = 0.5f * (t1 - t2);
                d[3 * a + 2] = 0.5f * (t1 + t2) + t3;
            }
        }
    }
}
