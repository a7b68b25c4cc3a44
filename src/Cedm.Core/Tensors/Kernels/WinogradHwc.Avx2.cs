using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cedm.Tensors.Kernels;

// The AVX2 + FMA kernels of the channels-innermost Winograd path, for machines without AVX-512. The layouts are the
// AVX-512 path's ([C/16][12][16] groups of V, [Cout/32][Cin][32] panels of U, 8-channel slabs of Mg); only the
// register blocking changes, to what 16 ymm registers hold. Each output element is still one FMA chain over the same
// operands in the same order, so results equal the AVX-512 kernels' bit for bit (tested where both run).
internal static unsafe partial class WinogradHwc
{
    /// <summary>Whether this machine (or the policy's forced choice) runs the AVX2 kernels rather than the AVX-512 ones.</summary>
    internal static bool UseAvx2Kernels => ResolveIsa(EnginePolicy.Current.HwcKernel) == ManagedKernel.Avx2;

    /// <summary>The kernel family a request resolves to: AVX-512 where accelerated, else AVX2 + FMA, else none (Vector128).</summary>
    internal static ManagedKernel ResolveIsa(ManagedKernel requested) => requested switch
    {
        ManagedKernel.Auto when Vector512.IsHardwareAccelerated && Avx512F.IsSupported => ManagedKernel.Avx512,
        ManagedKernel.Auto when Avx2.IsSupported && Fma.IsSupported => ManagedKernel.Avx2,
        ManagedKernel.Auto => ManagedKernel.Vector128,
        ManagedKernel.Avx512 when !(Vector512.IsHardwareAccelerated && Avx512F.IsSupported) => ManagedKernel.Vector128,
        ManagedKernel.Avx2 when !(Avx2.IsSupported && Fma.IsSupported) => ManagedKernel.Vector128,
        var k => k,
    };

    /// <summary>
    /// As <see cref="Tile12x32"/> (or <see cref="Tile12x16"/>) with AVX2: the 12-tile × panel-width block as 6-tile ×
    /// 16-channel tiles. <paramref name="width"/> is the U panel's width (32, or 16 for the last panel).
    /// </summary>
    private static void TilePanelAvx2(int chunks, float* a, float* b, int width, float* c, nint ldc)
    {
        for (int r0 = 0; r0 < GroupTiles; r0 += 6)
            for (int j = 0; j < width; j += 16)
                Tile6x16Avx2(chunks, a + r0 * 16, b + j, width, c + r0 * ldc + j, ldc);
    }

    /// <summary>M[6 tiles × 16 channels] = V·U over Cin = 16·chunks: a = 6 consecutive tiles of a 12-tile V group, b = 16 columns of a U panel with row stride bStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile6x16Avx2(int chunks, float* a, float* b, nint bStride, float* c, nint ldc)
    {
        Vector256<float> c0_0 = default, c0_1 = default;
        Vector256<float> c1_0 = default, c1_1 = default;
        Vector256<float> c2_0 = default, c2_1 = default;
        Vector256<float> c3_0 = default, c3_1 = default;
        Vector256<float> c4_0 = default, c4_1 = default;
        Vector256<float> c5_0 = default, c5_1 = default;
        for (int q = 0; q < chunks; q++)
        {
            for (int pp = 0; pp < 16; pp++)
            {
                Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
                Vector256<float> s;
                s = Vector256.Create(a[0]); c0_0 = Fma.MultiplyAdd(s, b0, c0_0); c0_1 = Fma.MultiplyAdd(s, b1, c0_1);
                s = Vector256.Create(a[16]); c1_0 = Fma.MultiplyAdd(s, b0, c1_0); c1_1 = Fma.MultiplyAdd(s, b1, c1_1);
                s = Vector256.Create(a[32]); c2_0 = Fma.MultiplyAdd(s, b0, c2_0); c2_1 = Fma.MultiplyAdd(s, b1, c2_1);
                s = Vector256.Create(a[48]); c3_0 = Fma.MultiplyAdd(s, b0, c3_0); c3_1 = Fma.MultiplyAdd(s, b1, c3_1);
                s = Vector256.Create(a[64]); c4_0 = Fma.MultiplyAdd(s, b0, c4_0); c4_1 = Fma.MultiplyAdd(s, b1, c4_1);
                s = Vector256.Create(a[80]); c5_0 = Fma.MultiplyAdd(s, b0, c5_0); c5_1 = Fma.MultiplyAdd(s, b1, c5_1);
                a++;
                b += bStride;
            }
            a += GroupTiles * 16 - 16;
        }
        c0_0.Store(c + 0 * ldc); c0_1.Store(c + 0 * ldc + 8);
        c1_0.Store(c + 1 * ldc); c1_1.Store(c + 1 * ldc + 8);
        c2_0.Store(c + 2 * ldc); c2_1.Store(c + 2 * ldc + 8);
        c3_0.Store(c + 3 * ldc); c3_1.Store(c + 3 * ldc + 8);
        c4_0.Store(c + 4 * ldc); c4_1.Store(c + 4 * ldc + 8);
        c5_0.Store(c + 5 * ldc); c5_1.Store(c + 5 * ldc + 8);
    }

    /// <summary>
    /// As <see cref="WeightTile8x32"/> (or <see cref="WeightTile8x16"/>) with AVX2: the 8 output × panel-width input
    /// channels as 4 × 16 tiles (8 accumulators, 2 V loads and 4 broadcasts per tile).
    /// </summary>
    private static void WeightPanelAvx2(int groups, float* a, nint lda, float* v, nint groupStride, int width, float* z, nint ldz)
    {
        for (int r0 = 0; r0 < 8; r0 += 4)
            for (int j = 0; j < width; j += 16)
                WeightTile4x16Avx2(groups, a + r0, lda, v + j / 16 * GroupTiles * 16, groupStride, z + r0 * ldz + j, ldz);
    }

    /// <summary>Z[4 output channels × 16 input channels] += Σ_t Mg[t][co]·V[t][ci] over 12·groups tiles (arguments as <see cref="WeightTile8x32"/>, v at one 16-channel chunk).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightTile4x16Avx2(int groups, float* a, nint lda, float* v, nint groupStride, float* z, nint ldz)
    {
        Vector256<float> c0_0 = default, c0_1 = default;
        Vector256<float> c1_0 = default, c1_1 = default;
        Vector256<float> c2_0 = default, c2_1 = default;
        Vector256<float> c3_0 = default, c3_1 = default;
        for (int gi = 0; gi < groups; gi++)
        {
            float* b = v + gi * groupStride;
            for (int t = 0; t < GroupTiles; t++)
            {
                Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
                Vector256<float> s;
                s = Vector256.Create(a[0]); c0_0 = Fma.MultiplyAdd(s, b0, c0_0); c0_1 = Fma.MultiplyAdd(s, b1, c0_1);
                s = Vector256.Create(a[1]); c1_0 = Fma.MultiplyAdd(s, b0, c1_0); c1_1 = Fma.MultiplyAdd(s, b1, c1_1);
                s = Vector256.Create(a[2]); c2_0 = Fma.MultiplyAdd(s, b0, c2_0); c2_1 = Fma.MultiplyAdd(s, b1, c2_1);
                s = Vector256.Create(a[3]); c3_0 = Fma.MultiplyAdd(s, b0, c3_0); c3_1 = Fma.MultiplyAdd(s, b1, c3_1);
                a += lda;
                b += 16;
            }
        }
        (Vector256.Load(z + 0 * ldz) + c0_0).Store(z + 0 * ldz); (Vector256.Load(z + 0 * ldz + 8) + c0_1).Store(z + 0 * ldz + 8);
        (Vector256.Load(z + 1 * ldz) + c1_0).Store(z + 1 * ldz); (Vector256.Load(z + 1 * ldz + 8) + c1_1).Store(z + 1 * ldz + 8);
        (Vector256.Load(z + 2 * ldz) + c2_0).Store(z + 2 * ldz); (Vector256.Load(z + 2 * ldz + 8) + c2_1).Store(z + 2 * ldz + 8);
        (Vector256.Load(z + 3 * ldz) + c3_0).Store(z + 3 * ldz); (Vector256.Load(z + 3 * ldz + 8) + c3_1).Store(z + 3 * ldz + 8);
    }

    /// <summary>
    /// As <see cref="Transpose16"/> with AVX2: the 16×16 block as four 8×8 blocks, each transposed in registers
    /// (unpack pairs of rows, shuffle 2-element groups, then swap 128-bit halves).
    /// </summary>
    internal static void Transpose16Avx2(float* src, long* srcAt, float* dst, long* dstAt)
    {
        for (int rh = 0; rh < 16; rh += 8)
            for (int ch = 0; ch < 16; ch += 8)
            {
                [MethodImpl(MethodImplOptions.AggressiveInlining)]
                Vector256<float> R(int k) => Vector256.Load(src + srcAt[rh + k] + ch);
                var t0 = Avx.UnpackLow(R(0), R(1)); var t1 = Avx.UnpackHigh(R(0), R(1));
                var t2 = Avx.UnpackLow(R(2), R(3)); var t3 = Avx.UnpackHigh(R(2), R(3));
                var t4 = Avx.UnpackLow(R(4), R(5)); var t5 = Avx.UnpackHigh(R(4), R(5));
                var t6 = Avx.UnpackLow(R(6), R(7)); var t7 = Avx.UnpackHigh(R(6), R(7));
                // u lane L (of each 128-bit half) = column 4·half + j of rows 4i…4i+3.
                var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
                var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
                var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
                var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
                [MethodImpl(MethodImplOptions.AggressiveInlining)]
                void W(int j, Vector256<float> col) => col.Store(dst + dstAt[ch + j] + rh);
                W(0, Avx.Permute2x128(u0, u4, 0x20)); W(4, Avx.Permute2x128(u0, u4, 0x31));
                W(1, Avx.Permute2x128(u1, u5, 0x20)); W(5, Avx.Permute2x128(u1, u5, 0x31));
                W(2, Avx.Permute2x128(u2, u6, 0x20)); W(6, Avx.Permute2x128(u2, u6, 0x31));
                W(3, Avx.Permute2x128(u3, u7, 0x20)); W(7, Avx.Permute2x128(u3, u7, 0x31));
            }
    }
}
