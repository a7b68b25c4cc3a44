using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Cedm.Clustering;

/// <summary>
/// Nearest of at most <see cref="MaxK"/> centres for one row, without a GEMM. With K ≤ 32 a [rows, K] GEMM is too
/// skinny for OpenBLAS (≈ 19 GFLOP/s at K = 10, D = 50: half of a Lloyd pass), while K dot products fit in four
/// 8-lane registers: the centres are stored transposed and lane-padded, [D, 8·tiles], and each feature x_j is broadcast
/// and multiply-added into every tile. Same expansion as <see cref="Distances"/> (‖c‖² − 2x·c, ‖x‖² added by the
/// caller), only the summation order differs. Padding lanes hold ‖c‖² = +∞ so they never win.
/// </summary>
internal sealed class SmallKDistances
{
    public const int MaxK = 32;
    private const int Lanes = 8;

    /// <summary>8-lane tiles, always an even number (the kernel fills them in pairs).</summary>
    private const int MaxTiles = MaxK / Lanes;

    private readonly float[] _ct;
    private readonly float[] _cNorms;
    private readonly int _d, _tiles;

    /// <summary>Vector256 arithmetic in hardware (AVX or NEON pairs); elsewhere the GEMM path is faster.</summary>
    public static bool Supported(int k) => k <= MaxK && Vector256.IsHardwareAccelerated;

    public SmallKDistances(float[] centers, float[] cNorms, int k, int d)
    {
        if (k > MaxK) throw new ArgumentOutOfRangeException(nameof(k), k, $"at most {MaxK} centres");
        _d = d;
        _tiles = 2 * ((k + 2 * Lanes - 1) / (2 * Lanes));
        int kp = _tiles * Lanes;
        _ct = new float[d * kp];
        for (int c = 0; c < k; c++)
            for (int j = 0; j < d; j++) _ct[j * kp + c] = centers[c * d + j];
        _cNorms = new float[kp];
        Array.Fill(_cNorms, float.PositiveInfinity);
        Array.Copy(cNorms, _cNorms, k);
    }

    /// <summary>
    /// Nearest centre (the first on ties) and its ‖c‖² − 2x·c for rows i0 … i0 + count − 1 of x [*, D], count ≤ 4.
    /// Four rows at once give eight independent multiply-add chains per pair of tiles: one row alone would wait on the
    /// FMA latency at every feature.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Nearest4(float[] x, int i0, int count, Span<int> index, Span<float> best)
    {
        ref float x0 = ref MemoryMarshal.GetArrayDataReference(x);
        ref float r0 = ref Unsafe.Add(ref x0, (nint)i0 * _d);
        ref float r1 = ref Unsafe.Add(ref x0, (nint)(i0 + Math.Min(1, count - 1)) * _d);
        ref float r2 = ref Unsafe.Add(ref x0, (nint)(i0 + Math.Min(2, count - 1)) * _d);
        ref float r3 = ref Unsafe.Add(ref x0, (nint)(i0 + Math.Min(3, count - 1)) * _d);
        ref float ct = ref MemoryMarshal.GetArrayDataReference(_ct);
        ref float cn = ref MemoryMarshal.GetArrayDataReference(_cNorms);
        int kp = _tiles * Lanes;
        var minus2 = Vector256.Create(-2f);
        Span<Vector256<float>> v = stackalloc Vector256<float>[4 * MaxTiles];
        for (int t = 0; t < _tiles; t += 2)
        {
            Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
            Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
            ref float col = ref Unsafe.Add(ref ct, t * Lanes);
            for (int j = 0; j < _d; j++)
            {
                ref float cj = ref Unsafe.Add(ref col, j * kp);
                var c0 = Vector256.LoadUnsafe(ref cj);
                var c1 = Vector256.LoadUnsafe(ref cj, Lanes);
                var b = Vector256.Create(Unsafe.Add(ref r0, j));
                a00 = Vector256.MultiplyAddEstimate(b, c0, a00); a01 = Vector256.MultiplyAddEstimate(b, c1, a01);
                b = Vector256.Create(Unsafe.Add(ref r1, j));
                a10 = Vector256.MultiplyAddEstimate(b, c0, a10); a11 = Vector256.MultiplyAddEstimate(b, c1, a11);
                b = Vector256.Create(Unsafe.Add(ref r2, j));
                a20 = Vector256.MultiplyAddEstimate(b, c0, a20); a21 = Vector256.MultiplyAddEstimate(b, c1, a21);
                b = Vector256.Create(Unsafe.Add(ref r3, j));
                a30 = Vector256.MultiplyAddEstimate(b, c0, a30); a31 = Vector256.MultiplyAddEstimate(b, c1, a31);
            }
            var n0 = Vector256.LoadUnsafe(ref cn, (nuint)(t * Lanes));
            var n1 = Vector256.LoadUnsafe(ref cn, (nuint)((t + 1) * Lanes));
            v[t] = Vector256.MultiplyAddEstimate(a00, minus2, n0); v[t + 1] = Vector256.MultiplyAddEstimate(a01, minus2, n1);
            v[MaxTiles + t] = Vector256.MultiplyAddEstimate(a10, minus2, n0); v[MaxTiles + t + 1] = Vector256.MultiplyAddEstimate(a11, minus2, n1);
            v[2 * MaxTiles + t] = Vector256.MultiplyAddEstimate(a20, minus2, n0); v[2 * MaxTiles + t + 1] = Vector256.MultiplyAddEstimate(a21, minus2, n1);
            v[3 * MaxTiles + t] = Vector256.MultiplyAddEstimate(a30, minus2, n0); v[3 * MaxTiles + t + 1] = Vector256.MultiplyAddEstimate(a31, minus2, n1);
        }
        for (int q = 0; q < count; q++) index[q] = ArgMin(v.Slice(q * MaxTiles, _tiles), out best[q]);
    }

    private static int ArgMin(ReadOnlySpan<Vector256<float>> v, out float best)
    {
        var m = v[0];
        for (int t = 1; t < v.Length; t++) m = Vector256.Min(m, v[t]);
        best = HorizontalMin(m);
        var target = Vector256.Create(best);
        for (int t = 0; ; t++)
        {
            uint hit = Vector256.Equals(v[t], target).ExtractMostSignificantBits();
            if (hit != 0) return t * Lanes + System.Numerics.BitOperations.TrailingZeroCount(hit);
        }
    }

    private static float HorizontalMin(Vector256<float> v)
    {
        var m = Vector128.Min(v.GetLower(), v.GetUpper());
        m = Vector128.Min(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Min(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }
}
