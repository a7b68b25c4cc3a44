namespace Cedm.Tensors.Kernels;

/// <summary>Scalar/span forms of the activations, shared by the tensor ops and the fused kernels.</summary>
internal static class Activations
{
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    public static float Silu(float x) => x / (1f + MathF.Exp(-x));

    public static float SiluDerivative(float x)
    {
        float s = Sigmoid(x);
        return s * (1f + x * (1f - s));
    }

    public static void SiluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        // σ(x) into y with the vectorised kernel, then multiply by x: two streaming passes.
        System.Numerics.Tensors.TensorPrimitives.Sigmoid(x, y);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, y, y);
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
