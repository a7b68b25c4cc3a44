using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cedm.Tensors.Kernels;

// Micro-kernel for AVX-512F: 12 x 32 (24 zmm accumulators + 2 B vectors + 1 broadcast = 27 of 32 registers).
// Written out register by register on purpose: the JIT keeps each named local in its own vector register,
// which a loop over an accumulator array would not guarantee.
// Contract (all kernels): pa = packed A micro-panel (kc steps of MR floats), pb = packed B micro-panel
// (kc steps of NR floats), c = top-left of a full MR x NR tile of C with row stride ldc.
// Alpha was already folded into pa by the packing, so C = pa*pb + beta*C here.
internal static unsafe partial class GemmManaged
{
    /// <summary>AVX-512 micro-kernel: 12 rows x 32 columns (two 16-lane zmm vectors per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x32Avx512(int kc, float* pa, float* pb, float* c, nint ldc, float beta)
    {
        // 12x2 accumulators live in registers for the whole k loop: C tile = 12 rows x 32 columns.
        Vector512<float> c0_0 = default, c0_1 = default;
        Vector512<float> c1_0 = default, c1_1 = default;
        Vector512<float> c2_0 = default, c2_1 = default;
        Vector512<float> c3_0 = default, c3_1 = default;
        Vector512<float> c4_0 = default, c4_1 = default;
        Vector512<float> c5_0 = default, c5_1 = default;
        Vector512<float> c6_0 = default, c6_1 = default;
        Vector512<float> c7_0 = default, c7_1 = default;
        Vector512<float> c8_0 = default, c8_1 = default;
        Vector512<float> c9_0 = default, c9_1 = default;
        Vector512<float> c10_0 = default, c10_1 = default;
        Vector512<float> c11_0 = default, c11_1 = default;
        for (int p = 0; p < kc; p++)
        {
            // One packed B row (32 floats, 2 vectors) is reused by all 12 rows;
            // each packed A value is broadcast and reused across the 2 vectors.
            Vector512<float> b0 = Vector512.Load(pb + 0);
            Vector512<float> b1 = Vector512.Load(pb + 16);
            Vector512<float> a;
            a = Vector512.Create(pa[0]); c0_0 = Avx512F.FusedMultiplyAdd(a, b0, c0_0); c0_1 = Avx512F.FusedMultiplyAdd(a, b1, c0_1);
            a = Vector512.Create(pa[1]); c1_0 = Avx512F.FusedMultiplyAdd(a, b0, c1_0); c1_1 = Avx512F.FusedMultiplyAdd(a, b1, c1_1);
            a = Vector512.Create(pa[2]); c2_0 = Avx512F.FusedMultiplyAdd(a, b0, c2_0); c2_1 = Avx512F.FusedMultiplyAdd(a, b1, c2_1);
            a = Vector512.Create(pa[3]); c3_0 = Avx512F.FusedMultiplyAdd(a, b0, c3_0); c3_1 = Avx512F.FusedMultiplyAdd(a, b1, c3_1);
            a = Vector512.Create(pa[4]); c4_0 = Avx512F.FusedMultiplyAdd(a, b0, c4_0); c4_1 = Avx512F.FusedMultiplyAdd(a, b1, c4_1);
            a = Vector512.Create(pa[5]); c5_0 = Avx512F.FusedMultiplyAdd(a, b0, c5_0); c5_1 = Avx512F.FusedMultiplyAdd(a, b1, c5_1);
            a = Vector512.Create(pa[6]); c6_0 = Avx512F.FusedMultiplyAdd(a, b0, c6_0); c6_1 = Avx512F.FusedMultiplyAdd(a, b1, c6_1);
            a = Vector512.Create(pa[7]); c7_0 = Avx512F.FusedMultiplyAdd(a, b0, c7_0); c7_1 = Avx512F.FusedMultiplyAdd(a, b1, c7_1);
            a = Vector512.Create(pa[8]); c8_0 = Avx512F.FusedMultiplyAdd(a, b0, c8_0); c8_1 = Avx512F.FusedMultiplyAdd(a, b1, c8_1);
            a = Vector512.Create(pa[9]); c9_0 = Avx512F.FusedMultiplyAdd(a, b0, c9_0); c9_1 = Avx512F.FusedMultiplyAdd(a, b1, c9_1);
            a = Vector512.Create(pa[10]); c10_0 = Avx512F.FusedMultiplyAdd(a, b0, c10_0); c10_1 = Avx512F.FusedMultiplyAdd(a, b1, c10_1);
            a = Vector512.Create(pa[11]); c11_0 = Avx512F.FusedMultiplyAdd(a, b0, c11_0); c11_1 = Avx512F.FusedMultiplyAdd(a, b1, c11_1);
            pa += 12;
            pb += 32;
        }

        // Write back: beta == 0 must not read C (it may hold NaN garbage), otherwise C = acc + beta * C.
        if (beta == 0f)
        {
            c0_0.Store(c + 0 * ldc + 0); c0_1.Store(c + 0 * ldc + 16);
            c1_0.Store(c + 1 * ldc + 0); c1_1.Store(c + 1 * ldc + 16);
            c2_0.Store(c + 2 * ldc + 0); c2_1.Store(c + 2 * ldc + 16);
            c3_0.Store(c + 3 * ldc + 0); c3_1.Store(c + 3 * ldc + 16);
            c4_0.Store(c + 4 * ldc + 0); c4_1.Store(c + 4 * ldc + 16);
            c5_0.Store(c + 5 * ldc + 0); c5_1.Store(c + 5 * ldc + 16);
            c6_0.Store(c + 6 * ldc + 0); c6_1.Store(c + 6 * ldc + 16);
            c7_0.Store(c + 7 * ldc + 0); c7_1.Store(c + 7 * ldc + 16);
            c8_0.Store(c + 8 * ldc + 0); c8_1.Store(c + 8 * ldc + 16);
            c9_0.Store(c + 9 * ldc + 0); c9_1.Store(c + 9 * ldc + 16);
            c10_0.Store(c + 10 * ldc + 0); c10_1.Store(c + 10 * ldc + 16);
            c11_0.Store(c + 11 * ldc + 0); c11_1.Store(c + 11 * ldc + 16);
        }
        else
        {
            Vector512<float> vb = Vector512.Create(beta);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 0 * ldc + 0), vb, c0_0).Store(c + 0 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 0 * ldc + 16), vb, c0_1).Store(c + 0 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 1 * ldc + 0), vb, c1_0).Store(c + 1 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 1 * ldc + 16), vb, c1_1).Store(c + 1 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 2 * ldc + 0), vb, c2_0).Store(c + 2 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 2 * ldc + 16), vb, c2_1).Store(c + 2 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 3 * ldc + 0), vb, c3_0).Store(c + 3 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 3 * ldc + 16), vb, c3_1).Store(c + 3 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 4 * ldc + 0), vb, c4_0).Store(c + 4 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 4 * ldc + 16), vb, c4_1).Store(c + 4 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 5 * ldc + 0), vb, c5_0).Store(c + 5 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 5 * ldc + 16), vb, c5_1).Store(c + 5 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 6 * ldc + 0), vb, c6_0).Store(c + 6 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 6 * ldc + 16), vb, c6_1).Store(c + 6 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 7 * ldc + 0), vb, c7_0).Store(c + 7 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 7 * ldc + 16), vb, c7_1).Store(c + 7 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 8 * ldc + 0), vb, c8_0).Store(c + 8 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 8 * ldc + 16), vb, c8_1).Store(c + 8 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 9 * ldc + 0), vb, c9_0).Store(c + 9 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 9 * ldc + 16), vb, c9_1).Store(c + 9 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 10 * ldc + 0), vb, c10_0).Store(c + 10 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 10 * ldc + 16), vb, c10_1).Store(c + 10 * ldc + 16);
            Avx512F.FusedMultiplyAdd(Vector512.Load(c + 11 * ldc + 0), vb, c11_0).Store(c + 11 * ldc + 0); Avx512F.FusedMultiplyAdd(Vector512.Load(c + 11 * ldc + 16), vb, c11_1).Store(c + 11 * ldc + 16);
        }
    }
}
