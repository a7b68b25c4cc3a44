using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Tests.Tensors.Kernels;

/// <summary>The span backward kernels against their one-element-at-a-time formulas (odd lengths: vector body + tail).</summary>
public class ActivationBackwardTests
{
    private delegate void Kernel(ReadOnlySpan<float> saved, ReadOnlySpan<float> g, Span<float> gx);

    public static TheoryData<string> Names => new() { "square", "tanh", "sqrt", "relu", "silu", "sigmoid" };

    [Theory]
    [MemberData(nameof(Names))]
    public void SpanKernelMatchesScalarDerivative(string name)
    {
        foreach (int n in new[] { 1, 7, 37, 1029 })
        {
            var rng = new Rng((ulong)n);
            var x = Tensor.Randn(rng, [n]).Data;
            var g = Tensor.Randn(rng, [n]).Data;
            if (n > 3) x[3] = 0f; // the ReLU kink
            (Kernel Kernel, float[] Saved, Func<int, float> Expected) c = name switch
            {
                "square" => (Activations.SquareBackward, x, i => g[i] * (2f * x[i])),
                "tanh" => (Activations.TanhBackward, Map(x, MathF.Tanh), i => g[i] * (1f - MathF.Tanh(x[i]) * MathF.Tanh(x[i]))),
                "sqrt" => (Activations.SqrtBackward, Map(x, v => MathF.Sqrt(MathF.Abs(v) + 0.1f)), i => g[i] * (0.5f / MathF.Sqrt(MathF.Abs(x[i]) + 0.1f))),
                "relu" => (Activations.ReluBackward, x, i => x[i] > 0 ? g[i] : 0f),
                "silu" => (Activations.SiluBackward, x, i => g[i] * Activations.SiluDerivative(x[i])),
                _ => (Activations.SigmoidBackward, Map(x, Activations.Sigmoid), i => g[i] * Activations.Sigmoid(x[i]) * (1f - Activations.Sigmoid(x[i]))),
            };
            var (kernel, saved, expected) = c;
            var gx = new float[n];
            gx.AsSpan().Fill(float.NaN);
            kernel(saved, g, gx);
            for (int i = 0; i < n; i++)
                Assert.True(MathF.Abs(gx[i] - expected(i)) <= 1e-5f * (1f + MathF.Abs(expected(i))),
                    $"{name} n={n} i={i}: {gx[i]} vs {expected(i)}");
        }
    }

    private static float[] Map(float[] x, Func<float, float> f) => x.Select(f).ToArray();
}
