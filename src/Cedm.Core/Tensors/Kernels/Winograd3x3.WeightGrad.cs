using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// Z (+)= transforms of a group of <paramref name="samples"/> consecutive samples (x[s, Cin, H, W], dy[s, Cout,
    /// OutH, OutW]); the group's tiles form the GEMMs' k dimension. Scratch as for <see cref="ForwardGroup"/>.
    /// </summary>
    public static void WeightGradGroup(in Conv2dGeometry g, int samples, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> z,
        bool accumulate, Span<float> scratch, GemmNT gemm)
    {
        int th = TilesH(g), tw = TilesW(g), t = samples * th * tw;
        int vs = Stride(g.Cin, t), ms = Stride(g.Cout, t);
        Span<float> v = scratch[..(16 * vs)];
        Span<float> m = scratch.Slice(16 * vs, 16 * ms);
        Span<float> planes = scratch[(16 * (vs + ms))..];
        InputTransform(g, samples, x, v, planes, th, tw);
        GradOutputTransform(g, samples, dy, m, planes, th, tw);
        for (int xi = 0; xi < 16; xi++)
            gemm(g.Cout, g.Cin, t, m.Slice(xi * ms, g.Cout * t), v.Slice(xi * vs, g.Cin * t),
                z.Slice(xi * g.Cout * g.Cin, g.Cout * g.Cin), accumulate);
    }

    /// <summary>C[m×n] (+)= A[m×k] · B[n×k]ᵀ, row-major and dense.</summary>
    public delegate void GemmNT(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate);

    /// <summary>
    /// Mg[ξ][co][s·tiles + tile] = (A ∂y_tile Aᵀ)[ξ]; output pixels past OutH/OutW (cropped in the forward) count as 0.
    /// Each pair of gradient rows is first split into even and odd columns (zero past the edge), so 8 tiles at a
    /// time are vector loads and each ξ row gets one vector store, as in the input transform.
    /// </summary>
    internal static unsafe void GradOutputTransform(in Conv2dGeometry g, int samples, ReadOnlySpan<float> dy, Span<float> m,
        Span<float> planes, int th, int tw)
    {
        int t1 = th * tw, t = samples * t1, oh = g.OutH, ow = g.OutW;
        long xiStride = Stride(g.Cout, t);
        int half = tw + Vector256<float>.Count;
        if (planes.Length < 4 * half) throw new ArgumentException("Winograd scratch too small for the gradient rows.");
        fixed (float* pd = dy)
        fixed (float* pm = m)
        fixed (float* pp = planes)
        {
            float* e0 = pp, o0 = pp + half, e1 = pp + 2 * half, o1 = pp + 3 * half;
            for (int sc = 0; sc < samples * g.Cout; sc++)
            {
                int sample = sc / g.Cout, co = sc - sample * g.Cout;
                float* plane = pd + (long)sc * oh * ow;
                for (int ty = 0; ty < th; ty++)
                {
                    float* r0 = plane + 2 * ty * ow;
                    bool has1 = 2 * ty + 1 < oh;
                    // De-interleave: e[j] = row[2j], o[j] = row[2j+1]; a cropped last column or row reads as 0.
                    int pairs = ow >> 1;
                    for (int j = 0; j < pairs; j++) { e0[j] = r0[2 * j]; o0[j] = r0[2 * j + 1]; }
                    if ((ow & 1) != 0) { e0[pairs] = r0[ow - 1]; o0[pairs] = 0f; }
                    if (has1)
                    {
                        float* r1 = r0 + ow;
                        for (int j = 0; j < pairs; j++) { e1[j] = r1[2 * j]; o1[j] = r1[2 * j + 1]; }
                        if ((ow & 1) != 0) { e1[pairs] = r1[ow - 1]; o1[pairs] = 0f; }
                    }
                    else
                    {
                        new Span<float>(e1, tw).Clear();
                        new Span<float>(o1, tw).Clear();
                    }
                    float* dst = pm + (long)co * t + sample * t1 + ty * tw;
                    int tx = 0;
                    for (; tx + Vector256<float>.Count <= tw; tx += Vector256<float>.Count)
                    {
                        var d00 = Vector256.Load(e0 + tx); var d01 = Vector256.Load(o0 + tx);
                        var d10 = Vector256.Load(e1 + tx); var d11 = Vector256.Load(o1 + tx);
                        // Rows of A·d (A rows: (1,0), (1,1), (1,−1), (0,−1)), then the same on columns.
                        GradStoreRow(dst + tx, xiStride, 0, d00, d01);
                        GradStoreRow(dst + tx, xiStride, 1, d00 + d10, d01 + d11);
                        GradStoreRow(dst + tx, xiStride, 2, d00 - d10, d01 - d11);
                        GradStoreRow(dst + tx, xiStride, 3, -d10, -d11);
                    }
                    for (; tx < tw; tx++)
                    {
                        float d00 = e0[tx], d01 = o0[tx], d10 = e1[tx], d11 = o1[tx];
                        float* o = dst + tx;
                        Store4(o, xiStride, 0, d00, d01);
                        Store4(o, xiStride, 1, d00 + d10, d01 + d11);
                        Store4(o, xiStride, 2, d00 - d10, d01 - d11);
                        Store4(o, xiStride, 3, -d10, -d11);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void GradStoreRow(float* o, long stride, int i, Vector256<float> a, Vector256<float> b)
    {
        a.Store(o + (4 * i + 0) * stride);
        (a + b).Store(o + (4 * i + 1) * stride);
        (a - b).Store(o + (4 * i + 2) * stride);
        (-b).Store(o + (4 * i + 3) * stride);
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
