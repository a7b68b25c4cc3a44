using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cedm.Tensors.Kernels;

// Micro-kernel for AVX2+FMA: 6 x 16 (12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers).
// Written out register by register on purpose: the JIT keeps each named local in its own vector register,
// which a loop over an accumulator array would not guarantee.
// Contract (all kernels): pa = packed A micro-panel (kc steps of MR floats), pb = packed B micro-panel
// (kc steps of NR floats), c = top-left of a full MR x NR tile of C with row stride ldc.
// Alpha was already folded into pa by the packing, so C = pa*pb + beta*C here.
internal static unsafe partial class GemmManaged
{
    /// <summary>AVX2/FMA micro-kernel: 6 rows x 16 columns (two 8-lane ymm vectors per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16Avx2(int kc, float* pa, float* pb, float* c, nint ldc, float beta)
    {
        // 6x2 accumulators live in registers for the whole k loop: C tile = 6 rows x 16 columns.
        Vector256<float> c0_0 = default, c0_1 = default;
        Vector256<float> c1_0 = default, c1_1 = default;
        Vector256<float> c2_0 = default, c2_1 = default;
        Vector256<float> c3_0 = default, c3_1 = default;
        Vector256<float> c4_0 = default, c4_1 = default;
        Vector256<float> c5_0 = default, c5_1 = default;
        for (int p = 0; p < kc; p++)
        {
            // One packed B row (16 floats, 2 vectors) is reused by all 6 rows;
            // each packed A value is broadcast and reused across the 2 vectors.
            Vector256<float> b0 = Vector256.Load(pb + 0);
            Vector256<float> b1 = Vector256.Load(pb + 8);
            Vector256<float> a;
            a = Vector256.Create(pa[0]); c0_0 = Fma.MultiplyAdd(a, b0, c0_0); c0_1 = Fma.MultiplyAdd(a, b1, c0_1);
            a = Vector256.Create(pa[1]); c1_0 = Fma.MultiplyAdd(a, b0, c1_0); c1_1 = Fma.MultiplyAdd(a, b1, c1_1);
            a = Vector256.Create(pa[2]); c2_0 = Fma.MultiplyAdd(a, b0, c2_0); c2_1 = Fma.MultiplyAdd(a, b1, c2_1);
            a = Vector256.Create(pa[3]); c3_0 = Fma.MultiplyAdd(a, b0, c3_0); c3_1 = Fma.MultiplyAdd(a, b1, c3_1);
            a = Vector256.Create(pa[4]); c4_0 = Fma.MultiplyAdd(a, b0, c4_0); c4_1 = Fma.MultiplyAdd(a, b1, c4_1);
            a = Vector256.Create(pa[5]); c5_0 = Fma.MultiplyAdd(a, b0, c5_0); c5_1 = Fma.MultiplyAdd(a, b1, c5_1);
            pa += 6;
            pb += 16;
        }

        // Write back: beta == 0 must not read C (it may hold NaN garbage), otherwise C = acc + beta * C.
        if (beta == 0f)
        {
            c0_0.Store(c + 0 * ldc + 0); c0_1.Store(c + 0 * ldc + 8);
            c1_0.Store(c + 1 * ldc + 0); c1_1.Store(c + 1 * ldc + 8);
            c2_0.Store(c + 2 * ldc + 0); c2_1.Store(c + 2 * ldc + 8);
            c3_0.Store(c + 3 * ldc + 0); c3_1.Store(c + 3 * ldc + 8);
            c4_0.Store(c + 4 * ldc + 0); c4_1.Store(c + 4 * ldc + 8);
            c5_0.Store(c + 5 * ldc + 0); c5_1.Store(c + 5 * ldc + 8);
        }
        else
        {
            Vector256<float> vb = Vector256.Create(beta);
            Fma.MultiplyAdd(Vector256.Load(c + 0 * ldc + 0), vb, c0_0).Store(c + 0 * ldc + 0); Fma.MultiplyAdd(Vector256.Load(c + 0 * ldc + 8), vb, c0_1).Store(c + 0 * ldc + 8);
            Fma.MultiplyAdd(Vector256.Load(c + 1 * ldc + 0), vb, c1_0).Store(c + 1 * ldc + 0); Fma.MultiplyAdd(Vector256.Load(c + 1 * ldc + 8), vb, c1_1).Store(c + 1 * ldc + 8);
            Fma.MultiplyAdd(Vector256.Load(c + 2 * ldc + 0), vb, c2_0).Store(c + 2 * ldc + 0); Fma.MultiplyAdd(Vector256.Load(c + 2 * ldc + 8), vb, c2_1).Store(c + 2 * ldc + 8);
            Fma.MultiplyAdd(Vector256.Load(c + 3 * ldc + 0), vb, c3_0).Store(c + 3 * ldc + 0); Fma.MultiplyAdd(Vector256.Load(c + 3 * ldc + 8), vb, c3_1).Store(c + 3 * ldc + 8);
            Fma.MultiplyAdd(Vector256.Load(c + 4 * ldc + 0), vb, c4_0).Store(c + 4 * ldc + 0); Fma.MultiplyAdd(Vector256.Load(c + 4 * ldc + 8), vb, c4_1).Store(c + 4 * ldc + 8);
            Fma.MultiplyAdd(Vector256.Load(c + 5 * ldc + 0), vb, c5_0).Store(c + 5 * ldc + 0); Fma.MultiplyAdd(Vector256.Load(c + 5 * ldc + 8), vb, c5_1).Store(c + 5 * ldc + 8);
        }
    }
}
