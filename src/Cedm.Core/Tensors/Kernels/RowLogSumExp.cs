using System.Numerics.Tensors;

namespace Cedm.Tensors.Kernels;

/// <summary>log Σ exp(x) of one contiguous row, max-shifted (the last-axis path of Tensor.LogSumExp, TEMI's fused loss).</summary>
internal static class RowLogSumExp
{
    /// <summary>m + log Σ exp(x − m), m the row's maximum; −∞ for a row of −∞. <paramref name="scratch"/> (same length) is overwritten.</summary>
    public static float Compute(ReadOnlySpan<float> x, Span<float> scratch)
    {
        float m = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(m)) return m;
        TensorPrimitives.Subtract(x, m, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        return m + MathF.Log(TensorPrimitives.Sum<float>(scratch));
    }
}
