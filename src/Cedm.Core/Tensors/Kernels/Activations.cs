using System.Numerics.Tensors;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// Scalar and span forms of the activations, shared by the tensor ops and the fused kernels.
/// Span forms work in cache-sized chunks of a few vectorised TensorPrimitives passes: TensorPrimitives.Exp is
/// vectorised, while its Sigmoid measured ~10x slower than Exp here, so σ is assembled as 1/(1+e^(−x)).
/// </summary>
internal static class Activations
{
    /// <summary>Elements per chunk: 4 KiB of floats keeps every pass of a chunk in L1.</summary>
    private const int Chunk = 1024;

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    public static float Silu(float x) => x / (1f + MathF.Exp(-x));

    public static float SiluDerivative(float x)
    {
        float s = Sigmoid(x);
        return s * (1f + x * (1f - s));
    }

    /// <summary>1 + e^(−x) into <paramref name="d"/>.</summary>
    private static void OnePlusExpNeg(ReadOnlySpan<float> x, Span<float> d)
    {
        TensorPrimitives.Negate(x, d);
        TensorPrimitives.Exp(d, d);
        TensorPrimitives.Add(d, 1f, d);
    }

    public static void SigmoidForward(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int o = 0; o < x.Length; o += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - o);
            var d = y.Slice(o, n);
            OnePlusExpNeg(x.Slice(o, n), d);
            TensorPrimitives.Divide(1f, d, d);
        }
    }

    /// <summary>SiLU(x) = x / (1 + e^(−x)).</summary>
    public static void SiluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int o = 0; o < x.Length; o += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - o);
            var d = y.Slice(o, n);
            OnePlusExpNeg(x.Slice(o, n), d);
            TensorPrimitives.Divide(x.Slice(o, n), d, d);
        }
    }

    /// <summary>gx = g · σ(x) · (1 + x·(1 − σ(x))), the SiLU backward.</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx)
    {
        Span<float> t = stackalloc float[Chunk];
        for (int o = 0; o < x.Length; o += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - o);
            var xs = x.Slice(o, n); var s = gx.Slice(o, n); var u = t[..n];
            OnePlusExpNeg(xs, s);
            TensorPrimitives.Divide(1f, s, s);          // s = σ(x)
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

    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)(x[i] * SpecialFunctions.NormalCdf(x[i]));
    }

    public static float GeluDerivative(float x) => (float)(SpecialFunctions.NormalCdf(x) + x * SpecialFunctions.NormalPdf(x));

    public static void SoftplusForward(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            y[i] = MathF.Max(v, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
        }
    }
}
