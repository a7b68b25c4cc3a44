using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Cedm.Tensors.Kernels;

// Weight gradient of the channels-innermost path: Z[ξ][co][ci] += Σ_tiles (A ∂y_tile Aᵀ)[ξ][co] · (Bᵀ d B)[ξ][ci]
// (the derivation is in Winograd3x3.WeightGrad.cs); Z is back-transformed by Winograd3x3.FinishWeightGrad. With both
// factors tile-major the tile sum is the micro-kernel's k loop: Mg rows give contiguous broadcasts over co, V's
// 16-channel chunks the vectors over ci.
// A = [1 0; 1 1; 1 −1; 0 −1].
internal static unsafe partial class WinogradHwc
{
    /// <summary>
    /// Z (+)= the transforms of <paramref name="samples"/> ≤ Plan.Samples consecutive samples (x[s, Cin, H, W],
    /// dy[s, Cout, OutH, OutW]); Z is [16][Cout][Cin] and is added to, never cleared.
    /// </summary>
    public static void WeightGradUnit(in Conv2dGeometry g, in Plan plan, int samples, float* px, float* pd, float* pz, float* ps)
    {
        float* planes = ps, pixels = planes + (long)plan.Samples * plan.PlaneFloats;
        float* v = pixels + (long)plan.Samples * plan.PixelFloats, mg = v + 16L * plan.VStride;
        for (int s = 0; s < samples; s++)
        {
            ToPaddedHwc(g.Cin, g.H, g.W, g.PadH, g.PadW, plan.RowsP, plan.ColsP, px + (long)s * g.Cin * g.InPixels,
                planes + (long)s * plan.PlaneFloats);
            // Output pixels of the cropped last tile row/column count as zero gradient.
            ToPaddedHwc(g.Cout, g.OutH, g.OutW, 0, 0, 2 * plan.Th, 2 * plan.Tw, pd + (long)s * g.Cout * g.OutPixels,
                pixels + (long)s * plan.PixelFloats);
        }
        int tiles = samples * plan.TilesPerSample;
        nint groupStride = GroupTiles * g.Cin;
        bool avx2 = UseAvx2Kernels;
        for (int t0 = 0; t0 < tiles; t0 += plan.BlockTiles)
        {
            int count = Math.Min(plan.BlockTiles, tiles - t0);
            int groups = (count + GroupTiles - 1) / GroupTiles;
            InputTransform(plan, planes, t0, count, v);
            GradOutputTransform(plan, pixels, t0, count, mg);
            for (int xi = 0; xi < 16; xi++)
            {
                float* vx = v + (long)xi * plan.VStride, mx = mg + (long)xi * plan.MStride, zx = pz + (long)xi * g.Cout * g.Cin;
                // Input-channel panels outer: the panel's V slice (tiles × 32 floats) stays in L1 while every 8-row slab of
                // Mg streams past it.
                for (int ci0 = 0; ci0 < g.Cin; ci0 += 32)
                    for (int co0 = 0; co0 < g.Cout; co0 += 8)
                    {
                        float* zt = zx + (long)co0 * g.Cin + ci0, vt = vx + ci0 * GroupTiles;
                        float* at = mx + co0 / 8 * SlabFloats(plan);
                        if (avx2) WeightPanelAvx2(groups, at, 8, vt, groupStride, Math.Min(32, g.Cin - ci0), zt, g.Cin);
                        else if (g.Cin - ci0 >= 32) WeightTile8x32(groups, at, 8, vt, groupStride, zt, g.Cin);
                        else WeightTile8x16(groups, at, 8, vt, groupStride, zt, g.Cin);
                    }
            }
        }
    }

    /// <summary>
    /// Mg[ξ] = (A ∂y_tile Aᵀ)[ξ] for tiles t0 … t0+count−1 of the unit, from [2·Th][2·Tw][Cout] gradient pixels, stored
    /// as [ξ][Cout/8 slabs][tile][8] so the weight micro-kernel's 8 broadcasts per tile are one contiguous 32-byte run;
    /// the rest of the last 12-tile group is zeroed.
    /// </summary>
    internal static void GradOutputTransform(in Plan plan, float* pixels, int t0, int count, float* mg)
    {
        int cout = plan.Cout, rowStride = 2 * plan.Tw * cout;
        long xs = plan.MStride, slab = SlabFloats(plan);
        int padded = (count + GroupTiles - 1) / GroupTiles * GroupTiles;
        for (int l = 0; l < padded; l++)
        {
            float* o = mg + (long)l * 8;
            if (l >= count)
            {
                for (int xi = 0; xi < 16; xi++)
                    for (int c0 = 0; c0 < cout; c0 += 8) Vector256<float>.Zero.Store(o + xi * xs + c0 / 8 * slab);
                continue;
            }
            var (s, ty, tx) = TileAt(plan, t0 + l);
            float* p = pixels + (long)s * plan.PixelFloats + (long)(2 * ty) * rowStride + (long)(2 * tx) * cout;
            for (int c0 = 0; c0 < cout; c0 += 16)
            {
                var g00 = Vector512.Load(p + c0); var g01 = Vector512.Load(p + cout + c0);
                var g10 = Vector512.Load(p + rowStride + c0); var g11 = Vector512.Load(p + rowStride + cout + c0);
                float* oc = o + c0 / 8 * slab;
                // Rows of A·g (A rows (1,0), (1,1), (1,−1), (0,−1)), then the same combination on the columns.
                GradRow(oc, xs, slab, 0, g00, g01);
                GradRow(oc, xs, slab, 1, g00 + g10, g01 + g11);
                GradRow(oc, xs, slab, 2, g00 - g10, g01 - g11);
                GradRow(oc, xs, slab, 3, -g10, -g11);
            }
        }
    }

    /// <summary>Floats per 8-channel slab of one ξ of Mg (a block's tiles × 8).</summary>
    private static long SlabFloats(in Plan plan) => (long)plan.BlockTiles * 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradRow(float* o, long xs, long slab, int i, Vector512<float> a, Vector512<float> b)
    {
        Store8x2(o + (4 * i + 0) * xs, slab, a);
        Store8x2(o + (4 * i + 1) * xs, slab, a + b);
        Store8x2(o + (4 * i + 2) * xs, slab, a - b);
        Store8x2(o + (4 * i + 3) * xs, slab, -b);
    }

    /// <summary>16 channels as two 8-channel slab entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8x2(float* o, long slab, Vector512<float> v)
    {
        v.GetLower().Store(o);
        v.GetUpper().Store(o + slab);
    }

    /// <summary>
    /// dw[co, ci, 3, 3] = Gᵀ Z[·][co][ci] G (overwrites dw), as <see cref="Winograd3x3.FinishWeightGrad"/> but 16 (co, ci)
    /// pairs per step: the 16 ξ planes are contiguous in (co, ci), so each ξ is one vector load; the 9 results are
    /// interleaved into dw through a small staging block.
    /// </summary>
    public static void FinishWeightGrad(int cout, int cin, float* z, float* dw)
    {
        int s = cout * cin;
        var half = Vector512.Create(0.5f);
        float* stage = stackalloc float[12 * 16], outs = stackalloc float[9 * 16];
        for (int o = 0; o < s; o += 16)
        {
            Vector512<float> Z(int xi) => Vector512.Load(z + (long)xi * s + o);
            // Rows of Gᵀ·Z (3×4), Gᵀ rows (1, ½, ½, 0), (0, ½, −½, 0), (0, ½, ½, 1); column j uses ξ = j, 4+j, 8+j, 12+j.
            for (int j = 0; j < 4; j++)
            {
                var z0 = Z(j); var z1 = Z(4 + j); var z2 = Z(8 + j); var z3 = Z(12 + j);
                var sum = half * (z1 + z2);
                (z0 + sum).Store(stage + j * 16);
                (half * (z1 - z2)).Store(stage + (4 + j) * 16);
                (sum + z3).Store(stage + (8 + j) * 16);
            }
            // Columns: (Gᵀ Z)·G, then interleave [9][16] → 16 kernels of 9.
            for (int a = 0; a < 3; a++)
            {
                var c0 = Vector512.Load(stage + (a * 4 + 0) * 16); var c1 = Vector512.Load(stage + (a * 4 + 1) * 16);
                var c2 = Vector512.Load(stage + (a * 4 + 2) * 16); var c3 = Vector512.Load(stage + (a * 4 + 3) * 16);
                var sum = half * (c1 + c2);
                (c0 + sum).Store(outs + (3 * a) * 16);
                (half * (c1 - c2)).Store(outs + (3 * a + 1) * 16);
                (sum + c3).Store(outs + (3 * a + 2) * 16);
            }
            float* d = dw + (long)o * 9;
            for (int l = 0; l < 16; l++)
                for (int k = 0; k < 9; k++) d[l * 9 + k] = outs[k * 16 + l];
        }
    }
}
