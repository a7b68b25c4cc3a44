using System.Numerics.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Element-wise add/sub/mul/div with NumPy broadcasting (per-channel [1,C,1,1], per-sample [N,1,1,1],
// scalar [] or [1], ...), and their scalar forms. Backward of a broadcast operand sums the gradient over the
// broadcast dimensions.
public sealed partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    public static Tensor operator +(Tensor a, float s) => a.AddScalar(s);
    public static Tensor operator +(float s, Tensor a) => a.AddScalar(s);
    public static Tensor operator -(Tensor a, float s) => a.AddScalar(-s);
    public static Tensor operator -(float s, Tensor a) => a.MulScalar(-1f).AddScalar(s);
    public static Tensor operator *(Tensor a, float s) => a.MulScalar(s);
    public static Tensor operator *(float s, Tensor a) => a.MulScalar(s);
    public static Tensor operator /(Tensor a, float s) => a.MulScalar(1f / s);
    public static Tensor operator -(Tensor a) => a.MulScalar(-1f);

    private static Tensor BinaryForward<TOp>(Tensor a, Tensor b) where TOp : IBinaryOp
    {
        var shape = Shapes.Broadcast(a._shape, b._shape);
        var y = Uninitialized(shape);
        Broadcasting.Binary<TOp>(a._data, a._shape, b._data, b._shape, y._data, shape);
        return y;
    }

    /// <summary>Adds a gradient shaped like an op's output into an operand that may have been broadcast.</summary>
    private static void AccumulateBroadcastGrad(Tensor operand, Tensor g)
    {
        if (!operand.RequiresGrad) return;
        if (Shapes.Equal(operand._shape, g._shape)) operand.AccumulateGrad(g);
        else operand.AccumulateGrad(new Tensor(Broadcasting.SumTo(g._data, g._shape, operand._shape), operand._shape), owned: true);
    }

    public static Tensor Add(Tensor a, Tensor b) =>
        BinaryForward<AddOp>(a, b).Record("add", [a, b], g =>
        {
            AccumulateBroadcastGrad(a, g);
            AccumulateBroadcastGrad(b, g);
        });

    public static Tensor Sub(Tensor a, Tensor b) =>
        BinaryForward<SubOp>(a, b).Record("sub", [a, b], g =>
        {
            AccumulateBroadcastGrad(a, g);
            if (b.RequiresGrad) AccumulateBroadcastGrad(b, g.MulScalar(-1f));
        });

    public static Tensor Mul(Tensor a, Tensor b) =>
        BinaryForward<MulOp>(a, b).Record("mul", [a, b], g =>
        {
            if (a.RequiresGrad) AccumulateBroadcastGrad(a, BinaryForward<MulOp>(g, b));
            if (b.RequiresGrad) AccumulateBroadcastGrad(b, BinaryForward<MulOp>(g, a));
        });

    public static Tensor Div(Tensor a, Tensor b)
    {
        var y = BinaryForward<DivOp>(a, b);
        return y.Record("div", [a, b], g =>
        {
            if (a.RequiresGrad) AccumulateBroadcastGrad(a, BinaryForward<DivOp>(g, b));
            // d(a/b)/db = -a/b² = -y/b
            if (b.RequiresGrad) AccumulateBroadcastGrad(b, BinaryForward<DivOp>(BinaryForward<MulOp>(g, y), b).MulScalar(-1f));
        });
    }

    public Tensor AddScalar(float s)
    {
        var x = this;
        var y = Uninitialized(_shape);
        Parallelism.For(Size, (o, n) => TensorPrimitives.Add(x._data.AsSpan(o, n), s, y._data.AsSpan(o, n)));
        return y.Record("add_scalar", x, g => x.AccumulateGrad(g));
    }

    public Tensor MulScalar(float s)
    {
        var x = this;
        var y = Uninitialized(_shape);
        Parallelism.For(Size, (o, n) => TensorPrimitives.Multiply(x._data.AsSpan(o, n), s, y._data.AsSpan(o, n)));
        return y.Record("mul_scalar", x, g => x.AccumulateGrad(g.MulScalar(s), owned: true));
    }

    /// <summary>
    /// (a + b)·s for same-shaped a and b in one op: the residual sum of a UNet block scaled by √0.5 (spec §2.2).
    /// Same values as (a + b) * s bit for bit, without materialising (and keeping alive for the graph) a + b,
    /// and one gradient g·s shared by both inputs.
    /// </summary>
    public static Tensor ScaledSum(Tensor a, Tensor b, float s)
    {
        RequireSameShape(a, b, "ScaledSum");
        var y = Uninitialized(a._shape);
        Parallelism.For(y.Size, (o, n) => TensorPrimitives.AddMultiply(a._data.AsSpan(o, n), b._data.AsSpan(o, n), s, y._data.AsSpan(o, n)));
        return y.Record("scaled_sum", [a, b], g =>
        {
            // Not owned by either input: both may hold it (a non-leaf borrows it, a leaf copies it).
            var gs = g.MulScalar(s);
            a.AccumulateGrad(gs);
            b.AccumulateGrad(gs);
        });
    }

    /// <summary>This tensor expanded to <paramref name="shape"/> by broadcasting (a copy).</summary>
    public Tensor BroadcastTo(params int[] shape)
    {
        var x = this;
        var target = Shapes.Broadcast(_shape, shape);
        if (!Shapes.Equal(target, shape)) throw new ArgumentException($"Cannot broadcast {Shapes.Format(_shape)} to {Shapes.Format(shape)}.");
        var zero = Scalar(0f);
        var y = Uninitialized(shape);
        Broadcasting.Binary<AddOp>(_data, _shape, zero._data, zero._shape, y._data, shape);
        return y.Record("broadcast_to", x, g => AccumulateBroadcastGrad(x, g));
    }
}
