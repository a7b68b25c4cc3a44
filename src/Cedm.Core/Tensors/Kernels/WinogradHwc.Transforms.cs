using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cedm.Tensors.Kernels;

// The layout changes and tile transforms of the channels-innermost Winograd path. Matrices as in Winograd3x3:
// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], Aᵀ = [1 1 1 0; 0 1 −1 −1]; every vector holds 16 channels.
internal static unsafe partial class WinogradHwc
{
    /// <summary>Element offsets k·stride for k = 0…7 (the lanes of a strided gather; the next 8 start 8·stride on).</summary>
    private static Vector256<int> Strides(int stride) => Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * stride;

    /// <summary>p[k·stride] for k = 0…15, as two 8-lane AVX2 gathers (.NET exposes no 16-lane gather).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Gather16(float* p, Vector256<int> lanes, long stride8) =>
        Vector512.Create(Avx2.GatherVector256(p, lanes, 4), Avx2.GatherVector256(p + stride8, lanes, 4));

    /// <summary>
    /// dst[r][c][ch] = src[ch][r − padH][c − padW] for r &lt; rows, c &lt; cols, zero outside the h × w image (every
    /// element of dst is written, so a reused buffer needs no clearing). The image's pixels are taken 16 at a time in
    /// flattened order (so narrow images need no row tails): 16 channels × 16 pixels are loaded, transposed in
    /// registers, and each pixel's vector stored at its own padded position.
    /// </summary>
    internal static void ToPaddedHwc(int channels, int h, int w, int padH, int padW, int rows, int cols, float* src, float* dst)
    {
        if (rows < h + padH || cols < w + padW) throw new ArgumentException("Winograd plane too small for the image.");
        long rowFloats = (long)cols * channels;
        for (int r = 0; r < rows; r++)
        {
            int iy = r - padH;
            float* row = dst + r * rowFloats;
            if (iy < 0 || iy >= h)
            {
                new Span<float>(row, (int)rowFloats).Clear();
                continue;
            }
            int left = Math.Min(padW, cols), right = Math.Max(left, Math.Min(cols, padW + w));
            new Span<float>(row, left * channels).Clear();
            new Span<float>(row + (long)right * channels, (cols - right) * channels).Clear();
        }
        int hw = h * w;
        bool avx2 = UseAvx2Kernels;
        long* at = stackalloc long[16], planes = stackalloc long[16];
        for (int k = 0; k < 16; k++) planes[k] = (long)k * hw;
        int p0 = 0;
        for (; p0 + 16 <= hw; p0 += 16)
        {
            for (int k = 0; k < 16; k++)
            {
                int iy = (p0 + k) / w, ix = p0 + k - iy * w;
                at[k] = ((long)(iy + padH) * cols + ix + padW) * channels;
            }
            for (int c0 = 0; c0 < channels; c0 += 16)
                if (avx2) Transpose16Avx2(src + (long)c0 * hw + p0, planes, dst + c0, at);
                else Transpose16(src + (long)c0 * hw + p0, planes, dst + c0, at);
        }
        var lanes = Strides(hw);
        for (; p0 < hw; p0++) GatherPixel(channels, hw, w, padH, padW, cols, src, dst, lanes, p0);
    }

    /// <summary>One pixel's channels into the padded plane (the tail of the flattened image).</summary>
    private static void GatherPixel(int channels, int hw, int w, int padH, int padW, int cols, float* src, float* dst,
        Vector256<int> lanes, int p)
    {
        int iy = p / w, ix = p - iy * w;
        float* px = dst + ((long)(iy + padH) * cols + ix + padW) * channels;
        for (int c0 = 0; c0 < channels; c0 += 16)
            Gather16(src + (long)c0 * hw + p, lanes, 8L * hw).Store(px + c0);
    }

    /// <summary>
    /// dst[c][oy][ox] = pixels[oy][ox][c] for the OutH × OutW pixels of a [·][rowPixels][C] image (cropping the odd
    /// last row/column of tiles): 16 output pixels (flattened order) × 16 channels per in-register transpose.
    /// </summary>
    internal static void FromHwc(int channels, int outH, int outW, int rowPixels, float* pixels, float* dst)
    {
        int n = outH * outW;
        bool avx2 = UseAvx2Kernels;
        long* at = stackalloc long[16], planes = stackalloc long[16];
        for (int k = 0; k < 16; k++) planes[k] = (long)k * n;
        int p0 = 0;
        for (; p0 + 16 <= n; p0 += 16)
        {
            for (int k = 0; k < 16; k++)
            {
                int oy = (p0 + k) / outW, ox = p0 + k - oy * outW;
                at[k] = ((long)oy * rowPixels + ox) * channels;
            }
            for (int c0 = 0; c0 < channels; c0 += 16)
                if (avx2) Transpose16Avx2(pixels + c0, at, dst + (long)c0 * n + p0, planes);
                else Transpose16(pixels + c0, at, dst + (long)c0 * n + p0, planes);
        }
        for (; p0 < n; p0++) ScatterPixel(channels, n, outW, rowPixels, pixels, dst, p0);
    }

    private static void ScatterPixel(int channels, int n, int outW, int rowPixels, float* pixels, float* dst, int p)
    {
        int oy = p / outW, ox = p - oy * outW;
        float* s = pixels + ((long)oy * rowPixels + ox) * channels;
        for (int c = 0; c < channels; c++) dst[(long)c * n + p] = s[c];
    }

    /// <summary>
    /// dst + dstAt[j] (16 floats) = column j of the 16×16 block whose row k is the 16 floats at src + srcAt[k]: an
    /// in-register transpose (unpack pairs of rows, then shuffle 2-element and 128-bit-lane groups; 64 shuffles).
    /// Kept in locals on purpose: staging the rows in a Vector512 array made each block ~10× slower (64-byte
    /// stores and reloads at 16-byte alignment defeat store forwarding).
    /// </summary>
    internal static void Transpose16(float* src, long* srcAt, float* dst, long* dstAt)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Vector512<float> R(int k) => Vector512.Load(src + srcAt[k]);
        Vector512<float> a, b;
        a = R(0); b = R(1); var t0 = Avx512F.UnpackLow(a, b); var t1 = Avx512F.UnpackHigh(a, b);
        a = R(2); b = R(3); var t2 = Avx512F.UnpackLow(a, b); var t3 = Avx512F.UnpackHigh(a, b);
        a = R(4); b = R(5); var t4 = Avx512F.UnpackLow(a, b); var t5 = Avx512F.UnpackHigh(a, b);
        a = R(6); b = R(7); var t6 = Avx512F.UnpackLow(a, b); var t7 = Avx512F.UnpackHigh(a, b);
        a = R(8); b = R(9); var t8 = Avx512F.UnpackLow(a, b); var t9 = Avx512F.UnpackHigh(a, b);
        a = R(10); b = R(11); var t10 = Avx512F.UnpackLow(a, b); var t11 = Avx512F.UnpackHigh(a, b);
        a = R(12); b = R(13); var t12 = Avx512F.UnpackLow(a, b); var t13 = Avx512F.UnpackHigh(a, b);
        a = R(14); b = R(15); var t14 = Avx512F.UnpackLow(a, b); var t15 = Avx512F.UnpackHigh(a, b);
        // u[4i+j] lane L = column 4L+j of rows 4i…4i+3.
        var u0 = Avx512F.Shuffle(t0, t2, 0x44); var u1 = Avx512F.Shuffle(t0, t2, 0xEE);
        var u2 = Avx512F.Shuffle(t1, t3, 0x44); var u3 = Avx512F.Shuffle(t1, t3, 0xEE);
        var u4 = Avx512F.Shuffle(t4, t6, 0x44); var u5 = Avx512F.Shuffle(t4, t6, 0xEE);
        var u6 = Avx512F.Shuffle(t5, t7, 0x44); var u7 = Avx512F.Shuffle(t5, t7, 0xEE);
        var u8 = Avx512F.Shuffle(t8, t10, 0x44); var u9 = Avx512F.Shuffle(t8, t10, 0xEE);
        var u10 = Avx512F.Shuffle(t9, t11, 0x44); var u11 = Avx512F.Shuffle(t9, t11, 0xEE);
        var u12 = Avx512F.Shuffle(t12, t14, 0x44); var u13 = Avx512F.Shuffle(t12, t14, 0xEE);
        var u14 = Avx512F.Shuffle(t13, t15, 0x44); var u15 = Avx512F.Shuffle(t13, t15, 0xEE);
        // Gather 128-bit lanes: first pairs of row quads, then the two halves.
        var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88); var v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88); var v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var v8 = Avx512F.Shuffle4x128(u8, u12, 0x88); var v12 = Avx512F.Shuffle4x128(u8, u12, 0xDD);
        var v9 = Avx512F.Shuffle4x128(u9, u13, 0x88); var v13 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        var v10 = Avx512F.Shuffle4x128(u10, u14, 0x88); var v14 = Avx512F.Shuffle4x128(u10, u14, 0xDD);
        var v11 = Avx512F.Shuffle4x128(u11, u15, 0x88); var v15 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        Avx512F.Shuffle4x128(v0, v8, 0x88).Store(dst + dstAt[0]); Avx512F.Shuffle4x128(v0, v8, 0xDD).Store(dst + dstAt[8]);
        Avx512F.Shuffle4x128(v1, v9, 0x88).Store(dst + dstAt[1]); Avx512F.Shuffle4x128(v1, v9, 0xDD).Store(dst + dstAt[9]);
        Avx512F.Shuffle4x128(v2, v10, 0x88).Store(dst + dstAt[2]); Avx512F.Shuffle4x128(v2, v10, 0xDD).Store(dst + dstAt[10]);
        Avx512F.Shuffle4x128(v3, v11, 0x88).Store(dst + dstAt[3]); Avx512F.Shuffle4x128(v3, v11, 0xDD).Store(dst + dstAt[11]);
        Avx512F.Shuffle4x128(v4, v12, 0x88).Store(dst + dstAt[4]); Avx512F.Shuffle4x128(v4, v12, 0xDD).Store(dst + dstAt[12]);
        Avx512F.Shuffle4x128(v5, v13, 0x88).Store(dst + dstAt[5]); Avx512F.Shuffle4x128(v5, v13, 0xDD).Store(dst + dstAt[13]);
        Avx512F.Shuffle4x128(v6, v14, 0x88).Store(dst + dstAt[6]); Avx512F.Shuffle4x128(v6, v14, 0xDD).Store(dst + dstAt[14]);
        Avx512F.Shuffle4x128(v7, v15, 0x88).Store(dst + dstAt[7]); Avx512F.Shuffle4x128(v7, v15, 0xDD).Store(dst + dstAt[15]);
    }

    /// <summary>(sample, tile row, tile column) of tile t of a unit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int S, int Ty, int Tx) TileAt(in Plan plan, int t)
    {
        int s = t / plan.TilesPerSample, rem = t - s * plan.TilesPerSample;
        int ty = rem / plan.Tw;
        return (s, ty, rem - ty * plan.Tw);
    }

    /// <summary>
    /// V[ξ] for tiles t0 … t0+count−1 of the unit, in the micro-kernel layout [group][C/16][12][16] per ξ; the rest of
    /// the last 12-tile group is zeroed (the weight gradient sums over it).
    /// </summary>
    internal static void InputTransform(in Plan plan, float* planes, int t0, int count, float* v)
    {
        int cin = plan.Cin, colStride = cin, rowStride = plan.ColsP * cin;
        long xs = plan.VStride;
        int padded = (count + GroupTiles - 1) / GroupTiles * GroupTiles;
        for (int l = 0; l < padded; l++)
        {
            int gi = l / GroupTiles, r = l - gi * GroupTiles;
            float* vt = v + (long)gi * GroupTiles * cin + r * 16;
            if (l >= count)
            {
                for (int xi = 0; xi < 16; xi++)
                    for (int c0 = 0; c0 < cin; c0 += 16)
                        Vector512<float>.Zero.Store(vt + xi * xs + c0 * GroupTiles);
                continue;
            }
            var (s, ty, tx) = TileAt(plan, t0 + l);
            float* d = planes + (long)s * plan.PlaneFloats + (long)(2 * ty) * rowStride + (long)(2 * tx) * colStride;
            for (int c0 = 0; c0 < cin; c0 += 16)
            {
                float* p0 = d + c0, p1 = p0 + rowStride, p2 = p1 + rowStride, p3 = p2 + rowStride;
                // Bᵀ·d on each of the four columns j (rows 0…3 of the window).
                var e00 = Vector512.Load(p0) - Vector512.Load(p2); var e01 = Vector512.Load(p0 + colStride) - Vector512.Load(p2 + colStride);
                var e02 = Vector512.Load(p0 + 2 * colStride) - Vector512.Load(p2 + 2 * colStride);
                var e03 = Vector512.Load(p0 + 3 * colStride) - Vector512.Load(p2 + 3 * colStride);
                var e10 = Vector512.Load(p1) + Vector512.Load(p2); var e11 = Vector512.Load(p1 + colStride) + Vector512.Load(p2 + colStride);
                var e12 = Vector512.Load(p1 + 2 * colStride) + Vector512.Load(p2 + 2 * colStride);
                var e13 = Vector512.Load(p1 + 3 * colStride) + Vector512.Load(p2 + 3 * colStride);
                var e20 = Vector512.Load(p2) - Vector512.Load(p1); var e21 = Vector512.Load(p2 + colStride) - Vector512.Load(p1 + colStride);
                var e22 = Vector512.Load(p2 + 2 * colStride) - Vector512.Load(p1 + 2 * colStride);
                var e23 = Vector512.Load(p2 + 3 * colStride) - Vector512.Load(p1 + 3 * colStride);
                var e30 = Vector512.Load(p1) - Vector512.Load(p3); var e31 = Vector512.Load(p1 + colStride) - Vector512.Load(p3 + colStride);
                var e32 = Vector512.Load(p1 + 2 * colStride) - Vector512.Load(p3 + 2 * colStride);
                var e33 = Vector512.Load(p1 + 3 * colStride) - Vector512.Load(p3 + 3 * colStride);
                float* o = vt + c0 * GroupTiles;
                StoreRow(o, xs, 0, e00, e01, e02, e03);
                StoreRow(o, xs, 1, e10, e11, e12, e13);
                StoreRow(o, xs, 2, e20, e21, e22, e23);
                StoreRow(o, xs, 3, e30, e31, e32, e33);
            }
        }
    }

    /// <summary>Row i of (Bᵀ d)·B: ξ = 4i … 4i+3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* o, long xs, int i, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        (a - c).Store(o + (4 * i + 0) * xs);
        (b + c).Store(o + (4 * i + 1) * xs);
        (c - b).Store(o + (4 * i + 2) * xs);
        (b - d).Store(o + (4 * i + 3) * xs);
    }

    /// <summary>
    /// Output tiles Aᵀ M A (+ bias) for tiles t0 … t0+count−1 of the unit, M as [ξ][tile][Cout]; written as 2×2 pixels
    /// into each sample's [2·Th][2·Tw][Cout] image.
    /// </summary>
    internal static void OutputTransform(in Plan plan, float* m, int t0, int count, float* bias, float* pixels)
    {
        int cout = plan.Cout, rowStride = 2 * plan.Tw * cout;
        long xs = plan.MStride;
        for (int l = 0; l < count; l++)
        {
            var (s, ty, tx) = TileAt(plan, t0 + l);
            float* o = pixels + (long)s * plan.PixelFloats + (long)(2 * ty) * rowStride + (long)(2 * tx) * cout;
            float* src = m + (long)l * cout;
            for (int c0 = 0; c0 < cout; c0 += 16)
            {
                float* q0 = src + c0, q1 = q0 + 4 * xs, q2 = q1 + 4 * xs, q3 = q2 + 4 * xs;
                // Rows of Aᵀ·M: r0j = M0j + M1j + M2j, r1j = M1j − M2j − M3j; then the columns of (Aᵀ M)·A.
                var m10 = Vector512.Load(q1); var m11 = Vector512.Load(q1 + xs); var m12 = Vector512.Load(q1 + 2 * xs); var m13 = Vector512.Load(q1 + 3 * xs);
                var m20 = Vector512.Load(q2); var m21 = Vector512.Load(q2 + xs); var m22 = Vector512.Load(q2 + 2 * xs); var m23 = Vector512.Load(q2 + 3 * xs);
                var r00 = Vector512.Load(q0) + m10 + m20; var r10 = m10 - m20 - Vector512.Load(q3);
                var r01 = Vector512.Load(q0 + xs) + m11 + m21; var r11 = m11 - m21 - Vector512.Load(q3 + xs);
                var r02 = Vector512.Load(q0 + 2 * xs) + m12 + m22; var r12 = m12 - m22 - Vector512.Load(q3 + 2 * xs);
                var r03 = Vector512.Load(q0 + 3 * xs) + m13 + m23; var r13 = m13 - m23 - Vector512.Load(q3 + 3 * xs);
                var b = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + c0);
                (r00 + r01 + r02 + b).Store(o + c0);
                (r01 - r02 - r03 + b).Store(o + cout + c0);
                (r10 + r11 + r12 + b).Store(o + rowStride + c0);
                (r11 - r12 - r13 + b).Store(o + rowStride + cout + c0);
            }
        }
    }
}
