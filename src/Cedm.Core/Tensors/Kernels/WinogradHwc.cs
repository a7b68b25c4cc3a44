using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// Winograd F(2×2, 3×3) with channels innermost, for AVX-512 (or AVX2 + FMA: WinogradHwc.Avx2.cs) machines and channel counts that are multiples of 16
/// (every SongUNet 3×3 conv after the first): the same algorithm as <see cref="Winograd3x3"/> (Lavin &amp; Gray 2016),
/// laid out so that no GEMM packing is needed and every intermediate stays in L1/L2.
/// <list type="bullet">
/// <item>Each sample is copied to a zero-bordered [rows][cols][C] plane (16 pixels × 16 channels per in-register
/// transpose), so a tile's 4×4 input window is 16 vector loads of 16 channels and the transform Bᵀ d B is 32 vector
/// additions.</item>
/// <item>The transform writes V[ξ] straight into the micro-kernel's operand layout: groups of 12 tiles, each
/// 16-channel chunk of the group contiguous ([C/16][12][16]), so the 12×32 micro-kernel broadcasts from fixed
/// offsets of one pointer. U[ξ] is pre-packed once per call as [Cout/32][Cin][32].</item>
/// <item>Work is cut into blocks of tiles (several small images per block), and for each ξ the block's 12-tile groups
/// run against U[ξ] while it sits in L1; the output transform Aᵀ m A then reads M from L2 and writes
/// [oy][ox][Cout] pixels, copied back to NCHW by the same transposes.</item>
/// </list>
/// Replaces im2col GEMM packing (the old path spent about half its time there on 64-channel layers). The portable
/// path (<see cref="Winograd3x3"/>) stays for machines without AVX2 and odd channel counts; both are checked
/// against <see cref="Conv2dReference"/>.
/// </summary>
internal static unsafe partial class WinogradHwc
{
    /// <summary>Tiles per micro-kernel row block (the 12 rows of the 12×32 kernel).</summary>
    internal const int GroupTiles = 12;

    public static bool Applies(in Conv2dGeometry g) =>
        EnginePolicy.Current.Avx512Winograd && ResolveIsa(EnginePolicy.Current.HwcKernel) is ManagedKernel.Avx512 or ManagedKernel.Avx2
        && Winograd3x3.Applies(g) && g.Cin % 16 == 0 && g.Cout % 16 == 0;

    /// <summary>
    /// Sizes of one call: tiles per image, samples per unit of work and tiles per block. Small images (8×8 → 16 tiles)
    /// are grouped so each unit holds about <see cref="EnginePolicy.HwcTargetTiles"/> tiles and fills several 12-tile
    /// micro-kernel blocks. Depends on the geometry and the policy only (never on the thread count), so weight-gradient
    /// sums are reproducible.
    /// </summary>
    internal readonly struct Plan
    {
        public Plan(in Conv2dGeometry g)
        {
            Th = Winograd3x3.TilesH(g);
            Tw = Winograd3x3.TilesW(g);
            RowsP = 2 * Th + 2;
            ColsP = 2 * Tw + 2;
            TilesPerSample = Th * Tw;
            Samples = Math.Clamp((EnginePolicy.Current.HwcTargetTiles + TilesPerSample - 1) / TilesPerSample, 1, Math.Max(1, g.N / Winograd3x3.MinGroups));
            // V and M of a block (16 × tiles × channels each) are sized to stay in a 2 MiB L2 with the planes.
            int widest = Math.Max(g.Cin, g.Cout);
            int unitGroups = (Samples * TilesPerSample + GroupTiles - 1) / GroupTiles;
            BlockGroups = Math.Clamp(8192 / (GroupTiles * widest), 1, unitGroups);
            Cin = g.Cin;
            Cout = g.Cout;
        }

        public int Th { get; }
        public int Tw { get; }
        /// <summary>Rows and columns of the zero-bordered input plane (enough for every tile's 4×4 window).</summary>
        public int RowsP { get; }
        public int ColsP { get; }
        public int TilesPerSample { get; }
        /// <summary>Samples per unit of work (one chunk of the sample queue holds whole units).</summary>
        public int Samples { get; }
        public int BlockGroups { get; }
        public int BlockTiles => BlockGroups * GroupTiles;
        public int Cin { get; }
        public int Cout { get; }

        /// <summary>Floats between consecutive ξ in V and M: a 64-byte skew keeps the 16 matrices off the same L1 sets.</summary>
        public int VStride => BlockTiles * Cin + 16;
        public int MStride => BlockTiles * Cout + 16;
        public int PlaneFloats => RowsP * ColsP * Cin;
        /// <summary>Floats of one image's [2·Th][2·Tw][Cout] output (or output-gradient) pixels.</summary>
        public int PixelFloats => 4 * TilesPerSample * Cout;

        public long ScratchFloats => (long)Samples * (PlaneFloats + PixelFloats) + 16L * (VStride + MStride);
    }

    /// <summary>
    /// U[ξ] = G k Gᵀ (as <see cref="Winograd3x3.TransformWeights"/>) packed as [ξ][Cout/32 panels][Cin][32] (the last
    /// panel 16 wide when Cout ≡ 16 mod 32) into <paramref name="packed"/> (16·Cout·Cin floats). The 3×3 kernel k of
    /// (output o, input i) is w[o, i] or, with <paramref name="flip"/>, the input-gradient kernel w[i, o] rotated by
    /// 180° (w is then [Cin, Cout, 3, 3]), so the backward pass needs no flipped copy. 16 output channels at a time:
    /// their taps are gathered, and each ξ is one contiguous 16-float store in the panel.
    /// </summary>
    public static void PackWeights(int cout, int cin, float* w, bool flip, float* packed)
    {
        long s = (long)cout * cin;
        // Element distance between the kernels of output channels o and o+1, and between inputs i and i+1.
        int oStride = flip ? 9 : cin * 9, iStride = flip ? cout * 9 : 9;
        var lanes = Strides(oStride);
        var half = Vector512.Create(0.5f);
        for (int o0 = 0; o0 < cout; o0 += 16)
        {
            int p0 = o0 & ~31, width = Math.Min(32, cout - p0), j = o0 - p0;
            for (int i = 0; i < cin; i++)
            {
                float* k = w + (long)o0 * oStride + (long)i * iStride;
                Vector512<float> Tap(int t) => Gather16(k + (flip ? 8 - t : t), lanes, 8L * oStride);
                float* dst = packed + (long)p0 * cin + (long)i * width + j;
                // Column c of G·k (4×3) from kernel column (k0, k1, k2): k0, ½(k0+k1+k2), ½(k0−k1+k2), k2.
                var a0 = Tap(0); var a1 = Tap(3); var a2 = Tap(6);
                var b0 = Tap(1); var b1 = Tap(4); var b2 = Tap(7);
                var c0 = Tap(2); var c1 = Tap(5); var c2 = Tap(8);
                var a12 = half * (a0 + a1 + a2); var a21 = half * (a0 - a1 + a2);
                var b12 = half * (b0 + b1 + b2); var b21 = half * (b0 - b1 + b2);
                var c12 = half * (c0 + c1 + c2); var c21 = half * (c0 - c1 + c2);
                // Row r of (G·k)·Gᵀ: a, ½(a+b+c), ½(a−b+c), c.
                StoreURow(dst, s, 0, a0, b0, c0, half);
                StoreURow(dst, s, 1, a12, b12, c12, half);
                StoreURow(dst, s, 2, a21, b21, c21, half);
                StoreURow(dst, s, 3, a2, b2, c2, half);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreURow(float* dst, long s, int r, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> half)
    {
        a.Store(dst + (4 * r + 0) * s);
        (half * (a + b + c)).Store(dst + (4 * r + 1) * s);
        (half * (a - b + c)).Store(dst + (4 * r + 2) * s);
        c.Store(dst + (4 * r + 3) * s);
    }

    /// <summary>
    /// y[s, Cout, OutH, OutW] = conv3x3(x[s, Cin, H, W]) + bias for <paramref name="samples"/> ≤ Plan.Samples consecutive
    /// samples; <paramref name="pu"/> from <see cref="PackWeights"/>; scratch of Plan.ScratchFloats floats.
    /// </summary>
    public static void ForwardUnit(in Conv2dGeometry g, in Plan plan, int samples, float* pu, float* px, float* pb, float* py, float* ps)
    {
        float* planes = ps, pixels = planes + (long)plan.Samples * plan.PlaneFloats;
        float* v = pixels + (long)plan.Samples * plan.PixelFloats, m = v + 16L * plan.VStride;
        bool avx2 = UseAvx2Kernels;
        for (int s = 0; s < samples; s++)
            ToPaddedHwc(g.Cin, g.H, g.W, g.PadH, g.PadW, plan.RowsP, plan.ColsP, px + (long)s * g.Cin * g.InPixels, planes + (long)s * plan.PlaneFloats);
        int tiles = samples * plan.TilesPerSample;
        for (int t0 = 0; t0 < tiles; t0 += plan.BlockTiles)
        {
            int count = Math.Min(plan.BlockTiles, tiles - t0);
            int groups = (count + GroupTiles - 1) / GroupTiles;
            InputTransform(plan, planes, t0, count, v);
            for (int xi = 0; xi < 16; xi++)
            {
                float* vx = v + (long)xi * plan.VStride, mx = m + (long)xi * plan.MStride, ux = pu + (long)xi * g.Cout * g.Cin;
                for (int gi = 0; gi < groups; gi++)
                {
                    float* a = vx + (long)gi * GroupTiles * g.Cin, c = mx + (long)gi * GroupTiles * g.Cout;
                    for (int p0 = 0; p0 < g.Cout; p0 += 32)
                    {
                        int width = Math.Min(32, g.Cout - p0);
                        if (avx2) TilePanelAvx2(g.Cin / 16, a, ux + p0 * g.Cin, width, c + p0, g.Cout);
                        else if (width == 32) Tile12x32(g.Cin / 16, a, ux + p0 * g.Cin, c + p0, g.Cout);
                        else Tile12x16(g.Cin / 16, a, ux + p0 * g.Cin, c + p0, g.Cout);
                    }
                }
            }
            OutputTransform(plan, m, t0, count, pb, pixels);
        }
        for (int s = 0; s < samples; s++)
            FromHwc(g.Cout, g.OutH, g.OutW, 2 * plan.Tw, pixels + (long)s * plan.PixelFloats, py + (long)s * g.Cout * g.OutPixels);
    }
}
