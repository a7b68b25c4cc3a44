using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// Small SIMD loops shared by the normalisation and bias-activation kernels: centred statistics, the
/// affine-with-centring forward, the SiLU chain rule and the "two streams" combination of the backward.
/// Every loop works on a span short enough to stay in L1 (the callers chunk), so the extra passes are cheap
/// and the whole op reads x from memory about once. Sums run in float per vector lane and are returned as
/// double; the callers add chunk results in double.
/// </summary>
internal static class NormMath
{
    /// <summary>Chunk length the kernels use for their stack scratch (2 × 8 KB).</summary>
    public const int Chunk = 2048;

    /// <summary>Σ (x − mu)².</summary>
    public static double SumSquaredDeviation(ReadOnlySpan<float> x, float mu)
    {
        var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
        var vmu = new Vector<float>(mu);
        var acc = Vector<float>.Zero;
        foreach (var v in vx) { var d = v - vmu; acc += d * d; }
        double s = Vector.Sum(acc);
        for (int i = vx.Length * Vector<float>.Count; i < x.Length; i++) { float d = x[i] - mu; s += d * d; }
        return s;
    }

    /// <summary>(Σ g, Σ g·(x − mu)): the per-channel sums of the normalisation backward.</summary>
    public static (double SumG, double SumGX) CentredDot(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float mu)
    {
        var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
        var vx = MemoryMarshal.Cast<float, Vector<float>>(x[..g.Length]);
        var vmu = new Vector<float>(mu);
        Vector<float> sg = Vector<float>.Zero, sgx = Vector<float>.Zero;
        for (int i = 0; i < vg.Length; i++) { sg += vg[i]; sgx += vg[i] * (vx[i] - vmu); }
        double a = Vector.Sum(sg), b = Vector.Sum(sgx);
        for (int i = vg.Length * Vector<float>.Count; i < g.Length; i++) { a += g[i]; b += g[i] * (x[i] - mu); }
        return (a, b);
    }

    /// <summary>dst = (x − mu)·scale + shift. Centring first keeps precision when |mu| ≫ σ.</summary>
    public static void CentredAffine(ReadOnlySpan<float> x, float mu, float scale, float shift, Span<float> dst)
    {
        var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(dst[..x.Length]);
        Vector<float> vmu = new(mu), vs = new(scale), vb = new(shift);
        for (int i = 0; i < vx.Length; i++) vd[i] = (vx[i] - vmu) * vs + vb;
        for (int i = vx.Length * Vector<float>.Count; i < x.Length; i++) dst[i] = (x[i] - mu) * scale + shift;
    }

    /// <summary>dst = (x − mu)·scale·gamma + beta element-wise (layer norm: per-feature affine).</summary>
    public static void CentredAffine(ReadOnlySpan<float> x, float mu, float scale, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> dst)
    {
        var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
        var vgm = MemoryMarshal.Cast<float, Vector<float>>(gamma[..x.Length]);
        var vbt = MemoryMarshal.Cast<float, Vector<float>>(beta[..x.Length]);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(dst[..x.Length]);
        Vector<float> vmu = new(mu), vs = new(scale);
        for (int i = 0; i < vx.Length; i++) vd[i] = (vx[i] - vmu) * vs * vgm[i] + vbt[i];
        for (int i = vx.Length * Vector<float>.Count; i < x.Length; i++) dst[i] = (x[i] - mu) * scale * gamma[i] + beta[i];
    }

    /// <summary>
    /// dst = (g·gm − a)·r + (x − mu)·c2 + c0: the normalisation backward as two streams. Subtracting the group
    /// mean a before scaling by r (up to 1/sqrt(eps)) keeps the cancellation in u − mean(u) exact where it can be.
    /// </summary>
    public static void CombineCentred(ReadOnlySpan<float> g, float gm, float a, float r, ReadOnlySpan<float> x, float mu, float c2, float c0, Span<float> dst)
    {
        var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
        var vx = MemoryMarshal.Cast<float, Vector<float>>(x[..g.Length]);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(dst[..g.Length]);
        Vector<float> vgm = new(gm), va = new(a), vr = new(r), vc2 = new(c2), vc0 = new(c0), vmu = new(mu);
        for (int i = 0; i < vg.Length; i++) vd[i] = (vg[i] * vgm - va) * vr + (vx[i] - vmu) * vc2 + vc0;
        for (int i = vg.Length * Vector<float>.Count; i < g.Length; i++) dst[i] = (g[i] * gm - a) * r + (x[i] - mu) * c2 + c0;
    }

    /// <summary>Σ x as M·pivot + Σ (x − pivot): summing deviations from a sample value keeps float lanes precise when |mean| ≫ σ.</summary>
    public static double SumShifted(ReadOnlySpan<float> x, float pivot)
    {
        var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
        var vp = new Vector<float>(pivot);
        var acc = Vector<float>.Zero;
        foreach (var v in vx) acc += v - vp;
        double s = Vector.Sum(acc);
        for (int i = vx.Length * Vector<float>.Count; i < x.Length; i++) s += x[i] - pivot;
        return s + (double)pivot * x.Length;
    }

    /// <summary>y = h·σ(h) given h in <paramref name="h"/> (overwritten with y); <paramref name="scratch"/> ≥ h.Length.</summary>
    public static void SiluInPlace(Span<float> h, Span<float> scratch)
    {
        var s = scratch[..h.Length];
        FastSigmoid.Compute(h, s);
        TensorPrimitives.Multiply(h, s, h);
    }

    /// <summary>
    /// g' = g·SiLU'(h) with SiLU'(h) = σ(h)·(1 + h·(1 − σ(h))); <paramref name="sig"/> holds σ(h) on entry.
    /// Written into <paramref name="dst"/> (may alias <paramref name="sig"/>).
    /// </summary>
    public static void SiluChain(ReadOnlySpan<float> g, ReadOnlySpan<float> h, ReadOnlySpan<float> sig, Span<float> dst)
    {
        var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
        var vh = MemoryMarshal.Cast<float, Vector<float>>(h[..g.Length]);
        var vs = MemoryMarshal.Cast<float, Vector<float>>(sig[..g.Length]);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(dst[..g.Length]);
        var one = Vector<float>.One;
        for (int i = 0; i < vg.Length; i++) { var s = vs[i]; vd[i] = vg[i] * s * (one + vh[i] * (one - s)); }
        for (int i = vg.Length * Vector<float>.Count; i < g.Length; i++) { float s = sig[i]; dst[i] = g[i] * s * (1f + h[i] * (1f - s)); }
    }
}
