using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Cedm.Tensors.Kernels;

// Micro-kernel portable fallback with Vector128: 4 x 8 (8 accumulators; fits the 16 registers of SSE/NEON).
// Written out register by register on purpose: the JIT keeps each named local in its own vector register,
// which a loop over an accumulator array would not guarantee.
// Contract (all kernels): pa = packed A micro-panel (kc steps of MR floats), pb = packed B micro-panel
// (kc steps of NR floats), c = top-left of a full MR x NR tile of C with row stride ldc.
// Alpha was already folded into pa by the packing, so C = pa*pb + beta*C here.
internal static unsafe partial class GemmManaged
{
    /// <summary>Portable micro-kernel: 4 rows x 8 columns. MultiplyAddEstimate fuses where the hardware can (FMA/NEON) and falls back to multiply+add elsewhere, so it is never a slow software FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x8Vector128(int kc, float* pa, float* pb, float* c, nint ldc, float beta)
    {
        // 4x2 accumulators live in registers for the whole k loop: C tile = 4 rows x 8 columns.
        Vector128<float> c0_0 = default, c0_1 = default;
        Vector128<float> c1_0 = default, c1_1 = default;
        Vector128<float> c2_0 = default, c2_1 = default;
        Vector128<float> c3_0 = default, c3_1 = default;
        for (int p = 0; p < kc; p++)
        {
            // One packed B row (8 floats, 2 vectors) is reused by all 4 rows;
            // each packed A value is broadcast and reused across the 2 vectors.
            Vector128<float> b0 = Vector128.Load(pb + 0);
            Vector128<float> b1 = Vector128.Load(pb + 4);
            Vector128<float> a;
            a = Vector128.Create(pa[0]); c0_0 = Vector128.MultiplyAddEstimate(a, b0, c0_0); c0_1 = Vector128.MultiplyAddEstimate(a, b1, c0_1);
            a = Vector128.Create(pa[1]); c1_0 = Vector128.MultiplyAddEstimate(a, b0, c1_0); c1_1 = Vector128.MultiplyAddEstimate(a, b1, c1_1);
            a = Vector128.Create(pa[2]); c2_0 = Vector128.MultiplyAddEstimate(a, b0, c2_0); c2_1 = Vector128.MultiplyAddEstimate(a, b1, c2_1);
            a = Vector128.Create(pa[3]); c3_0 = Vector128.MultiplyAddEstimate(a, b0, c3_0); c3_1 = Vector128.MultiplyAddEstimate(a, b1, c3_1);
            pa += 4;
            pb += 8;
        }

        // Write back: beta == 0 must not read C (it may hold NaN garbage), otherwise C = acc + beta * C.
        if (beta == 0f)
        {
            c0_0.Store(c + 0 * ldc + 0); c0_1.Store(c + 0 * ldc + 4);
            c1_0.Store(c + 1 * ldc + 0); c1_1.Store(c + 1 * ldc + 4);
            c2_0.Store(c + 2 * ldc + 0); c2_1.Store(c + 2 * ldc + 4);
            c3_0.Store(c + 3 * ldc + 0); c3_1.Store(c + 3 * ldc + 4);
        }
        else
        {
            Vector128<float> vb = Vector128.Create(beta);
            Vector128.MultiplyAddEstimate(Vector128.Load(c + 0 * ldc + 0), vb, c0_0).Store(c + 0 * ldc + 0); Vector128.MultiplyAddEstimate(Vector128.Load(c + 0 * ldc + 4), vb, c0_1).Store(c + 0 * ldc + 4);
            Vector128.MultiplyAddEstimate(Vector128.Load(c + 1 * ldc + 0), vb, c1_0).Store(c + 1 * ldc + 0); Vector128.MultiplyAddEstimate(Vector128.Load(c + 1 * ldc + 4), vb, c1_1).Store(c + 1 * ldc + 4);
            Vector128.MultiplyAddEstimate(Vector128.Load(c + 2 * ldc + 0), vb, c2_0).Store(c + 2 * ldc + 0); Vector128.MultiplyAddEstimate(Vector128.Load(c + 2 * ldc + 4), vb, c2_1).Store(c + 2 * ldc + 4);
            Vector128.MultiplyAddEstimate(Vector128.Load(c + 3 * ldc + 0), vb, c3_0).Store(c + 3 * ldc + 0); Vector128.MultiplyAddEstimate(Vector128.Load(c + 3 * ldc + 4), vb, c3_1).Store(c + 3 * ldc + 4);
        }
    }
}
