using System.Numerics.Tensors;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// An element-wise binary operator in the TensorPrimitives style: a scalar definition plus span forms for
/// (vector, vector), (vector, scalar) and (scalar, vector), which the broadcast driver picks per inner row.
/// </summary>
internal interface IBinaryOp
{
    static abstract float Invoke(float x, float y);
    static abstract void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d);
    static abstract void Apply(ReadOnlySpan<float> x, float y, Span<float> d);
    static abstract void Apply(float x, ReadOnlySpan<float> y, Span<float> d);
}

internal readonly struct AddOp : IBinaryOp
{
    public static float Invoke(float x, float y) => x + y;
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(y, x, d);
}

internal readonly struct SubOp : IBinaryOp
{
    public static float Invoke(float x, float y) => x - y;
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
}

internal readonly struct MulOp : IBinaryOp
{
    public static float Invoke(float x, float y) => x * y;
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Multiply(y, x, d);
}

internal readonly struct DivOp : IBinaryOp
{
    public static float Invoke(float x, float y) => x / y;
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
}
