using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// Scalar and span forms of the activations, shared by the tensor ops and the fused kernels. Span forms use
/// <see cref="FastSigmoid"/> (AVX-512 exp polynomial; TensorPrimitives.Sigmoid elsewhere).
/// </summary>
internal static class Activations
{
    /// <summary>Elements per chunk of the backward's scratch: 4 KiB of floats, on the stack.</summary>
    private const int Chunk = 1024;

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    public static float Silu(float x) => x / (1f + MathF.Exp(-x));

    public static float SiluDerivative(float x)
    {
        float s = Sigmoid(x);
        return s * (1f + x * (1f - s));
    }

    /// <summary>SiLU(x) = x·σ(x); <paramref name="y"/> must not alias <paramref name="x"/> (see NormMath.SiluInPlace).</summary>
    public static void SiluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        FastSigmoid.Compute(x, y);
        TensorPrimitives.Multiply(x, y, y);
    }

    /// <summary>gx = g · σ(x) · (1 + x·(1 − σ(x))), the SiLU backward.</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx)
    {
        Span<float> t = stackalloc float[Chunk];
        for (int o = 0; o < x.Length; o += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - o);
            var xs = x.Slice(o, n); var s = gx.Slice(o, n); var u = t[..n];
            FastSigmoid.Compute(xs, s);
            TensorPrimitives.Subtract(1f, s, u);         // 1 − σ
            TensorPrimitives.MultiplyAdd(xs, u, 1f, u);  // 1 + x(1 − σ)
            TensorPrimitives.Multiply(u, s, u);
            TensorPrimitives.Multiply(u, g.Slice(o, n), s);
        }
    }

    /// <summary>gx = g · y · (1 − y) with y = σ(x), the sigmoid backward from its output.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> gx)
    {
        Span<float> t = stackalloc float[Chunk];
        for (int o = 0; o < y.Length; o += Chunk)
        {
            int n = Math.Min(Chunk, y.Length - o);
            var ys = y.Slice(o, n); var u = t[..n];
            TensorPrimitives.Subtract(1f, ys, u);
            TensorPrimitives.Multiply(u, ys, u);
            TensorPrimitives.Multiply(u, g.Slice(o, n), gx.Slice(o, n));
        }
    }

    /// <summary>gx = g · 2x, the square backward (×2 is exact, so this equals g·(2x) bit for bit).</summary>
    public static void SquareBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx)
    {
        TensorPrimitives.Multiply(g, x, gx);
        TensorPrimitives.Multiply(gx, 2f, gx);
    }

    /// <summary>gx = g · (1 − y²) with y = tanh(x), from the output.</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> gx)
    {
        TensorPrimitives.Multiply(y, y, gx);
        TensorPrimitives.Subtract(1f, gx, gx);
        TensorPrimitives.Multiply(gx, g, gx);
    }

    /// <summary>gx = g · ½ / y with y = √x, from the output.</summary>
    public static void SqrtBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> gx)
    {
        TensorPrimitives.Divide(0.5f, y, gx);
        TensorPrimitives.Multiply(gx, g, gx);
    }

    /// <summary>gx = g where x &gt; 0, else 0 (the ReLU backward; NaN inputs pass no gradient, as x &gt; 0 is false).</summary>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            var ov = MemoryMarshal.Cast<float, Vector<float>>(gx);
            for (int j = 0; j < xv.Length; j++)
                ov[j] = Vector.ConditionalSelect(Vector.GreaterThan(xv[j], Vector<float>.Zero), gv[j], Vector<float>.Zero);
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) gx[i] = x[i] > 0 ? g[i] : 0f;
    }

    /// <summary>GELU(x) = x·Φ(x), exact (erf) form, vectorised (<see cref="NormalCdfAndDensity"/>).</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> cdf = stackalloc float[Chunk];
        Span<float> pdf = stackalloc float[Chunk];
        for (int o = 0; o < x.Length; o += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - o);
            var xs = x.Slice(o, n);
            NormalCdfAndDensity(xs, cdf[..n], pdf[..n]);
            TensorPrimitives.Multiply(xs, cdf[..n], y.Slice(o, n));
        }
    }

    /// <summary>gx = g · (Φ(x) + x·φ(x)), the GELU backward.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx)
    {
        Span<float> cdf = stackalloc float[Chunk];
        Span<float> pdf = stackalloc float[Chunk];
        for (int o = 0; o < x.Length; o += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - o);
            var xs = x.Slice(o, n); var c = cdf[..n]; var d = pdf[..n];
            NormalCdfAndDensity(xs, c, d);
            TensorPrimitives.MultiplyAdd(xs, d, c, c);
            TensorPrimitives.Multiply(c, g.Slice(o, n), gx.Slice(o, n));
        }
    }

    /// <summary>
    /// Φ(x) and φ(x) in float32 span passes: erf by Abramowitz and Stegun 7.1.26 (as <see cref="SpecialFunctions.Erf"/>,
    /// absolute error below 1.5e-7) on a = |x|/√2, whose exp(−a²) is also φ(x)·√(2π); the sign is restored with
    /// Φ = ½ + copysign(½ − ½·poly·exp(−a²), x). Spans of at most <see cref="Chunk"/> elements.
    /// </summary>
    private static void NormalCdfAndDensity(ReadOnlySpan<float> x, Span<float> cdf, Span<float> pdf)
    {
        Span<float> t = stackalloc float[x.Length];
        var a = pdf;                                              // a, then a², then exp(−a²), then φ
        TensorPrimitives.Abs(x, a);
        TensorPrimitives.Multiply(a, 0.70710678118654752f, a);
        TensorPrimitives.Multiply(a, 0.3275911f, t);
        TensorPrimitives.Add(t, 1f, t);
        TensorPrimitives.Reciprocal(t, t);
        var poly = cdf;
        TensorPrimitives.Multiply(t, 1.061405429f, poly);
        TensorPrimitives.Add(poly, -1.453152027f, poly);
        TensorPrimitives.MultiplyAdd(poly, t, 1.421413741f, poly);
        TensorPrimitives.MultiplyAdd(poly, t, -0.284496736f, poly);
        TensorPrimitives.MultiplyAdd(poly, t, 0.254829592f, poly);
        TensorPrimitives.Multiply(poly, t, poly);
        TensorPrimitives.Multiply(a, a, a);
        TensorPrimitives.Negate(a, a);
        TensorPrimitives.Exp(a, a);                               // exp(−x²/2)
        TensorPrimitives.Multiply(poly, a, poly);
        TensorPrimitives.Multiply(poly, -0.5f, poly);
        TensorPrimitives.Add(poly, 0.5f, poly);                   // ½ − ½·poly·e = ½·erf(|x|/√2)
        TensorPrimitives.CopySign(poly, x, poly);
        TensorPrimitives.Add(poly, 0.5f, cdf);
        TensorPrimitives.Multiply(a, 0.3989422804014327f, pdf);
    }

    public static void SoftplusForward(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            y[i] = MathF.Max(v, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
        }
    }
}
