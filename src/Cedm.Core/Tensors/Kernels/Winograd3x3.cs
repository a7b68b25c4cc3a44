using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin &amp; Gray 2016): each 2×2 output
/// tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A over its 4×4 input tile d, so the channel sums become 16 independent GEMMs
/// M[ξ] = U[ξ][Cout×Cin] · V[ξ][Cin×tiles] with 16 multiplies per tile instead of 36: 2.25× fewer GEMM flops
/// than im2col. Used for the forward pass and for the input gradient (a 3×3 stride-1 conv with the flipped
/// kernel), and for the weight gradient (Winograd3x3.WeightGrad.cs). Matrices (correlation form, as conv2d):
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
/// Transforms are exact up to float32 rounding of a few additions (and the halvings in G, exact in binary).
/// </summary>
internal static partial class Winograd3x3
{
    /// <summary>Worth it when the GEMMs dominate: enough channels on both sides (k = Cin, m = Cout per GEMM).</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.Kh == 3 && g.Kw == 3 && g.StrideH == 1 && g.StrideW == 1 && g.Cin >= 16 && g.Cout >= 16 && g.OutH >= 2 && g.OutW >= 2;

    public static int TilesH(in Conv2dGeometry g) => (g.OutH + 1) / 2;

    public static int TilesW(in Conv2dGeometry g) => (g.OutW + 1) / 2;

    /// <summary>Groups a batch is at least split into (when it has that many samples), so every worker gets work.</summary>
    internal const int MinGroups = 4;

    /// <summary>
    /// Samples per Winograd group for this geometry. A small image has few tiles per sample (8×8 → 16), and a GEMM
    /// with n = 16 wastes half of a 32-wide AVX-512 micro-tile and re-packs U for little work, so several samples are
    /// transformed side by side into one [C, samples·tiles] matrix: enough to reach
    /// <see cref="EnginePolicy.WinogradTargetTiles"/> tiles, but at most N / <see cref="MinGroups"/> samples so there
    /// are still chunks for every worker. Depends on the geometry and the policy only (never the
    /// thread count), so the weight-gradient summation order is reproducible.
    /// </summary>
    public static int GroupSize(in Conv2dGeometry g)
    {
        var policy = EnginePolicy.Current;
        int t = TilesH(g) * TilesW(g);
        return Math.Clamp((policy.WinogradTargetTiles + t - 1) / t, 1, Math.Max(1, g.N / MinGroups));
    }

    /// <summary>Floats of per-worker scratch a group of <paramref name="samples"/> needs (V, M and the de-interleaved padded plane).</summary>
    public static long ScratchFloats(in Conv2dGeometry g, int samples)
    {
        int t = samples * TilesH(g) * TilesW(g);
        return 16L * (Stride(g.Cin, t) + Stride(g.Cout, t)) + 2L * (2 * TilesH(g) + 2) * (TilesW(g) + 1 + Vector256<float>.Count);
    }

    /// <summary>
    /// Distance between the 16 ξ-matrices of V and M. The transforms touch all 16 at once; with a power-of-two
    /// distance (64 channels × 256 tiles = 64 KiB) they all map to the same L1 sets and evict each other, which
    /// made the input transform ~40% slower. A 64-byte skew spreads them.
    /// </summary>
    private static int Stride(int channels, int tiles) => channels * tiles + 16;

    /// <summary>
    /// U[ξ][co][ci] = (G w[co,ci] Gᵀ)[ξ] for a weight [Cout, Cin, 3, 3], in a buffer rented from the shared
    /// array pool (at least 16·Cout·Cin floats; return it when done).
    /// </summary>
    public static float[] TransformWeights(int cout, int cin, ReadOnlySpan<float> w)
    {
        var u = System.Buffers.ArrayPool<float>.Shared.Rent(16 * cout * cin);
        Span<float> gw = stackalloc float[12];
        for (int co = 0; co < cout; co++)
            for (int ci = 0; ci < cin; ci++)
            {
                ReadOnlySpan<float> k = w.Slice((co * cin + ci) * 9, 9);
                // Rows: G·k (4×3).
                for (int c = 0; c < 3; c++)
                {
                    float k0 = k[c], k1 = k[3 + c], k2 = k[6 + c];
                    gw[c] = k0; gw[3 + c] = 0.5f * (k0 + k1 + k2); gw[6 + c] = 0.5f * (k0 - k1 + k2); gw[9 + c] = k2;
                }
                // Columns: (G·k)·Gᵀ (4×4).
                for (int r = 0; r < 4; r++)
                {
                    float a = gw[3 * r], b = gw[3 * r + 1], c = gw[3 * r + 2];
                    int o = co * cin + ci, s = cout * cin;
                    u[(4 * r + 0) * s + o] = a;
                    u[(4 * r + 1) * s + o] = 0.5f * (a + b + c);
                    u[(4 * r + 2) * s + o] = 0.5f * (a - b + c);
                    u[(4 * r + 3) * s + o] = c;
                }
            }
        return u;
    }

    /// <summary>
    /// A group of <paramref name="samples"/> consecutive samples: y[s, Cout, OutH, OutW] = conv3x3(x[s, Cin, H, W]) + bias
    /// (bias may be empty), zero padding PadH/PadW. The samples' tiles sit side by side in each V/M row, so each of
    /// the 16 GEMMs has n = samples·tiles. <paramref name="gemm"/> runs C = A·B (row-major, no transposes).
    /// </summary>
    public static void ForwardGroup(in Conv2dGeometry g, int samples, float[] u, ReadOnlySpan<float> x, ReadOnlySpan<float> bias,
        Span<float> y, Span<float> scratch, GemmNN gemm)
    {
        int th = TilesH(g), tw = TilesW(g), t = samples * th * tw;
        int vs = Stride(g.Cin, t), ms = Stride(g.Cout, t);
        Span<float> v = scratch[..(16 * vs)];
        Span<float> m = scratch.Slice(16 * vs, 16 * ms);
        Span<float> planes = scratch[(16 * (vs + ms))..];
        InputTransform(g, samples, x, v, planes, th, tw);
        for (int xi = 0; xi < 16; xi++)
            gemm(g.Cout, t, g.Cin, u.AsSpan(xi * g.Cout * g.Cin, g.Cout * g.Cin), v.Slice(xi * vs, g.Cin * t),
                m.Slice(xi * ms, g.Cout * t));
        OutputTransform(g, samples, m, bias, y, th, tw);
    }

    /// <summary>C[m×n] = A[m×k] · B[k×n], all row-major and dense.</summary>
    public delegate void GemmNN(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c);

    /// <summary>
    /// V[ξ][ci][s·tiles + tile] = (Bᵀ d B)[ξ] for sample s of the group. Each channel is first copied into a
    /// zero-bordered plane split into even and odd columns, so the four input columns of 8 consecutive tiles are
    /// four contiguous vector loads.
    /// </summary>
    internal static unsafe void InputTransform(in Conv2dGeometry g, int samples, ReadOnlySpan<float> x, Span<float> v, Span<float> planes, int th, int tw)
    {
        int rows = 2 * th + 2, half = tw + 1 + Vector256<float>.Count, t1 = th * tw, t = samples * t1;
        long xiStride = Stride(g.Cin, t);
        Span<float> even = planes[..(rows * half)], odd = planes.Slice(rows * half, rows * half);
        fixed (float* pv = v)
        fixed (float* pe = even)
        fixed (float* po = odd)
        fixed (float* px = x)
        {
            for (int sc = 0; sc < samples * g.Cin; sc++)
            {
                int sample = sc / g.Cin, ci = sc - sample * g.Cin;
                // Padded plane P[r][c] = x[r − PadH][c − PadW] (0 outside); even[r][j] = P[r][2j], odd[r][j] = P[r][2j+1].
                even.Clear();
                odd.Clear();
                float* plane = px + (long)sc * g.InPixels;
                // Input column ix lands in padded column c = ix + PadW: even c → even[c/2], odd c → odd[c/2].
                // Walking ix in pairs fixes which half each of the two goes to (no per-element branch).
                int width = Math.Min(g.W, 2 * (tw + 1) - g.PadW);
                float* firstHalf = (g.PadW & 1) == 0 ? pe : po, secondHalf = (g.PadW & 1) == 0 ? po : pe;
                int firstOff = g.PadW >> 1, secondOff = (g.PadW + 1) >> 1;
                for (int iy = 0; iy < g.H; iy++)
                {
                    int r = iy + g.PadH;
                    if (r >= rows) break;
                    float* src = plane + iy * g.W;
                    float* d0 = firstHalf + r * half + firstOff, d1 = secondHalf + r * half + secondOff;
                    int ix = 0;
                    for (; ix + 1 < width; ix += 2)
                    {
                        d0[ix >> 1] = src[ix];
                        d1[ix >> 1] = src[ix + 1];
                    }
                    if (ix < width) d0[ix >> 1] = src[ix];
                }
                for (int ty = 0; ty < th; ty++)
                {
                    float* e0 = pe + (2 * ty) * half, o0 = po + (2 * ty) * half;
                    float* dst = pv + (long)ci * t + sample * t1 + ty * tw;
                    int tx = 0;
                    for (; tx + Vector256<float>.Count <= tw; tx += Vector256<float>.Count)
                        TransformTiles(e0 + tx, o0 + tx, half, dst + tx, xiStride);
                    for (; tx < tw; tx++)
                        TransformTileScalar(e0 + tx, o0 + tx, half, dst + tx, xiStride);
                }
            }
        }
    }

    /// <summary>8 tiles at once: a, b, c, d = input columns 2tx … 2tx+3 = even[tx], odd[tx], even[tx+1], odd[tx+1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransformTiles(float* e, float* o, int half, float* dst, long xiStride)
    {
        // Row transform Bᵀ·d on each of the four columns, then the column transform on each resulting row.
        var a0 = Vector256.Load(e); var b0 = Vector256.Load(o); var c0 = Vector256.Load(e + 1); var d0 = Vector256.Load(o + 1);
        var a1 = Vector256.Load(e + half); var b1 = Vector256.Load(o + half); var c1 = Vector256.Load(e + half + 1); var d1 = Vector256.Load(o + half + 1);
        var a2 = Vector256.Load(e + 2 * half); var b2 = Vector256.Load(o + 2 * half); var c2 = Vector256.Load(e + 2 * half + 1); var d2 = Vector256.Load(o + 2 * half + 1);
        var a3 = Vector256.Load(e + 3 * half); var b3 = Vector256.Load(o + 3 * half); var c3 = Vector256.Load(e + 3 * half + 1); var d3 = Vector256.Load(o + 3 * half + 1);
        StoreRow(a0 - a2, b0 - b2, c0 - c2, d0 - d2, dst, xiStride, 0);
        StoreRow(a1 + a2, b1 + b2, c1 + c2, d1 + d2, dst, xiStride, 1);
        StoreRow(a2 - a1, b2 - b1, c2 - c1, d2 - d1, dst, xiStride, 2);
        StoreRow(a1 - a3, b1 - b3, c1 - c3, d1 - d3, dst, xiStride, 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d, float* dst, long xiStride, int i)
    {
        (a - c).Store(dst + (4 * i + 0) * xiStride);
        (b + c).Store(dst + (4 * i + 1) * xiStride);
        (c - b).Store(dst + (4 * i + 2) * xiStride);
        (b - d).Store(dst + (4 * i + 3) * xiStride);
    }

    private static unsafe void TransformTileScalar(float* e, float* o, int half, float* dst, long xiStride)
    {
        Span<float> d = stackalloc float[16];
        for (int r = 0; r < 4; r++)
        {
            d[4 * r] = e[r * half]; d[4 * r + 1] = o[r * half]; d[4 * r + 2] = e[r * half + 1]; d[4 * r + 3] = o[r * half + 1];
        }
        for (int c = 0; c < 4; c++)
        {
            float r0 = d[c], r1 = d[4 + c], r2 = d[8 + c], r3 = d[12 + c];
            d[c] = r0 - r2; d[4 + c] = r1 + r2; d[8 + c] = r2 - r1; d[12 + c] = r1 - r3;
        }
        for (int i = 0; i < 4; i++)
        {
            float a = d[4 * i], b = d[4 * i + 1], c = d[4 * i + 2], dd = d[4 * i + 3];
            dst[(4 * i + 0) * xiStride] = a - c;
            dst[(4 * i + 1) * xiStride] = b + c;
            dst[(4 * i + 2) * xiStride] = c - b;
            dst[(4 * i + 3) * xiStride] = b - dd;
        }
    }

    /// <summary>y tile = Aᵀ m A (+ bias): the four outputs of 8 tiles at once, then interleaved into the two output rows.</summary>
    internal static unsafe void OutputTransform(in Conv2dGeometry g, int samples, ReadOnlySpan<float> m, ReadOnlySpan<float> bias, Span<float> y, int th, int tw)
    {
        int t1 = th * tw, t = samples * t1, oh = g.OutH, ow = g.OutW;
        long xiStride = Stride(g.Cout, t);
        const int L = 8;
        float* tmp = stackalloc float[4 * L];
        float* blk = stackalloc float[16 * L];
        fixed (float* pm = m)
        fixed (float* py = y)
        {
            for (int sc = 0; sc < samples * g.Cout; sc++)
            {
                int sample = sc / g.Cout, co = sc - sample * g.Cout;
                var bv = Vector256.Create(bias.IsEmpty ? 0f : bias[co]);
                float* yc = py + (long)sc * oh * ow;
                for (int ty = 0; ty < th; ty++)
                {
                    float* src = pm + (long)co * t + sample * t1 + ty * tw;
                    float* row0 = yc + (2 * ty) * ow;
                    bool hasRow1 = 2 * ty + 1 < oh;
                    for (int tx = 0; tx < tw; tx += L)
                    {
                        int n = Math.Min(L, tw - tx);
                        Vector256<float> y00, y01, y10, y11;
                        if (n == L)
                        {
                            Transform(src + tx, xiStride, bv, out y00, out y01, out y10, out y11);
                        }
                        else
                        {
                            // Tail: gather into a zero-padded block so the same vector code applies.
                            for (int xi = 0; xi < 16; xi++)
                                for (int j = 0; j < L; j++) blk[xi * L + j] = j < n ? src[xi * xiStride + tx + j] : 0f;
                            Transform(blk, L, bv, out y00, out y01, out y10, out y11);
                        }
                        y00.Store(tmp); y01.Store(tmp + L); y10.Store(tmp + 2 * L); y11.Store(tmp + 3 * L);
                        for (int j = 0; j < n; j++)
                        {
                            int ox = 2 * (tx + j);
                            row0[ox] = tmp[j];
                            if (ox + 1 < ow) row0[ox + 1] = tmp[L + j];
                            if (hasRow1)
                            {
                                row0[ow + ox] = tmp[2 * L + j];
                                if (ox + 1 < ow) row0[ow + ox + 1] = tmp[3 * L + j];
                            }
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transform(float* s, long stride, Vector256<float> bias,
        out Vector256<float> y00, out Vector256<float> y01, out Vector256<float> y10, out Vector256<float> y11)
    {
        // Rows of Aᵀ·m: r0j = m0j + m1j + m2j, r1j = m1j − m2j − m3j; then columns of (Aᵀ m)·A.
        Vector256<float> M(int i, int j) => Vector256.Load(s + (4 * i + j) * stride);
        var r00 = M(0, 0) + M(1, 0) + M(2, 0); var r10 = M(1, 0) - M(2, 0) - M(3, 0);
        var r01 = M(0, 1) + M(1, 1) + M(2, 1); var r11 = M(1, 1) - M(2, 1) - M(3, 1);
        var r02 = M(0, 2) + M(1, 2) + M(2, 2); var r12 = M(1, 2) - M(2, 2) - M(3, 2);
        var r03 = M(0, 3) + M(1, 3) + M(2, 3); var r13 = M(1, 3) - M(2, 3) - M(3, 3);
        y00 = r00 + r01 + r02 + bias;
        y01 = r01 - r02 - r03 + bias;
        y10 = r10 + r11 + r12 + bias;
        y11 = r11 - r12 - r13 + bias;
    }
}
