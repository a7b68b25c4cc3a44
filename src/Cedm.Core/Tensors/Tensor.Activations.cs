using System.Numerics.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Element-wise math and activations. Each forward is a span kernel (TensorPrimitives where it has one),
// each backward the local derivative times the incoming gradient.
public sealed partial class Tensor
{
    /// <summary>Applies <paramref name="kernel"/>(x, y) chunk-wise in parallel into a new tensor.</summary>
    private Tensor Map(SpanKernel kernel)
    {
        var x = _data;
        var y = Uninitialized(_shape);
        Parallelism.For(Size, (o, n) => kernel(x.AsSpan(o, n), y._data.AsSpan(o, n)));
        return y;
    }

    private delegate void SpanKernel(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>
    /// g * f(x, y) element-wise, where f is the local derivative computed from input and output: one delegate call
    /// per element, so only the rarely used activations take it (the common ones have span kernels via ZipGrad).
    /// </summary>
    private static Tensor LocalGrad(Tensor g, Tensor x, Tensor y, Func<float, float, float> derivative)
    {
        var r = Uninitialized(g._shape);
        var gd = g._data; var xd = x._data; var yd = y._data; var rd = r._data;
        Parallelism.For(rd.Length, (o, n) =>
        {
            for (int i = o; i < o + n; i++) rd[i] = gd[i] * derivative(xd[i], yd[i]);
        });
        return r;
    }

    private delegate void GradKernel(ReadOnlySpan<float> saved, ReadOnlySpan<float> g, Span<float> gx);

    /// <summary>gx = kernel(saved, g) chunk-wise in parallel, for backward kernels written as span passes.</summary>
    private static Tensor ZipGrad(Tensor g, Tensor saved, GradKernel kernel)
    {
        var r = Uninitialized(g._shape);
        Parallelism.For(r.Size, (o, n) => kernel(saved._data.AsSpan(o, n), g._data.AsSpan(o, n), r._data.AsSpan(o, n)));
        return r;
    }

    public Tensor Exp()
    {
        var x = this;
        var y = Map(TensorPrimitives.Exp);
        return y.Record("exp", x, g => x.AccumulateGrad(BinaryForward<MulOp>(g, y), owned: true));
    }

    public Tensor Log()
    {
        var x = this;
        var y = Map(TensorPrimitives.Log);
        return y.Record("log", x, g => x.AccumulateGrad(BinaryForward<DivOp>(g, x), owned: true));
    }

    public Tensor Sqrt()
    {
        var x = this;
        var y = Map(TensorPrimitives.Sqrt);
        return y.Record("sqrt", x, g => x.AccumulateGrad(ZipGrad(g, y, Activations.SqrtBackward), owned: true));
    }

    public Tensor Square()
    {
        var x = this;
        var y = Map((a, d) => TensorPrimitives.Multiply(a, a, d));
        return y.Record("square", x, g => x.AccumulateGrad(ZipGrad(g, x, Activations.SquareBackward), owned: true));
    }

    public Tensor Abs()
    {
        var x = this;
        var y = Map(TensorPrimitives.Abs);
        return y.Record("abs", x, g => x.AccumulateGrad(LocalGrad(g, x, y, (xv, _) => MathF.Sign(xv)), owned: true));
    }

    public Tensor Relu()
    {
        var x = this;
        var y = Map((a, d) => TensorPrimitives.Max(a, 0f, d));
        return y.Record("relu", x, g => x.AccumulateGrad(ZipGrad(g, x, Activations.ReluBackward), owned: true));
    }

    public Tensor Sigmoid()
    {
        var x = this;
        var y = Map(FastSigmoid.Compute);
        return y.Record("sigmoid", x, g => x.AccumulateGrad(ZipGrad(g, y, Activations.SigmoidBackward), owned: true));
    }

    public Tensor Tanh()
    {
        var x = this;
        var y = Map(TensorPrimitives.Tanh);
        return y.Record("tanh", x, g => x.AccumulateGrad(ZipGrad(g, y, Activations.TanhBackward), owned: true));
    }

    /// <summary>SiLU(x) = x·σ(x); derivative σ(x)·(1 + x·(1 − σ(x))).</summary>
    public Tensor Silu()
    {
        var x = this;
        var y = Map(Activations.SiluForward);
        return y.Record("silu", x, g => x.AccumulateGrad(ZipGrad(g, x, Activations.SiluBackward), owned: true));
    }

    /// <summary>GELU with the exact erf form x·Φ(x) (PyTorch's default, used by TEMI's heads).</summary>
    public Tensor Gelu()
    {
        var x = this;
        var y = Map(Activations.GeluForward);
        return y.Record("gelu", x, g => x.AccumulateGrad(ZipGrad(g, x, Activations.GeluBackward), owned: true));
    }

    /// <summary>softplus(x) = log(1 + eˣ), evaluated as max(x,0) + log1p(e^(−|x|)) to avoid overflow; derivative σ(x).</summary>
    public Tensor Softplus()
    {
        var x = this;
        var y = Map(Activations.SoftplusForward);
        return y.Record("softplus", x, g => x.AccumulateGrad(LocalGrad(g, x, y, (xv, _) => 1f / (1f + MathF.Exp(-xv))), owned: true));
    }

    /// <summary>Element-wise power with a constant exponent.</summary>
    public Tensor Pow(float p)
    {
        var x = this;
        var y = Map((a, d) => TensorPrimitives.Pow(a, p, d));
        return y.Record("pow", x, g => x.AccumulateGrad(LocalGrad(g, x, y, (xv, _) => p * MathF.Pow(xv, p - 1f)), owned: true));
    }

    /// <summary>Clamps to [min, max]; the gradient passes only where the input was inside.</summary>
    public Tensor Clamp(float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        var x = this;
        var y = Map((a, d) => TensorPrimitives.Min(TensorPrimitivesMax(a, min, d), max, d));
        return y.Record("clamp", x, g => x.AccumulateGrad(LocalGrad(g, x, y, (xv, _) => xv >= min && xv <= max ? 1f : 0f), owned: true));
    }

    private static Span<float> TensorPrimitivesMax(ReadOnlySpan<float> a, float m, Span<float> d)
    {
        TensorPrimitives.Max(a, m, d);
        return d;
    }
}
