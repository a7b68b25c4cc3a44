using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// General square-window pooling (Inception-v3, spec §6.1): max pool k×k with stride and −∞ padding, and average
// pool with PyTorch's count_include_pad switch. ceil_mode is always off. Both have their exact adjoints as backward.
public sealed partial class Tensor
{
    /// <summary>
    /// Max pooling of [N, C, H, W] with a <paramref name="kernel"/>² window, <paramref name="stride"/> and
    /// <paramref name="padding"/> (padding never wins) → [N, C, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1].
    /// The gradient goes to the first maximal input of each window.
    /// </summary>
    public Tensor MaxPool2d(int kernel, int stride, int padding = 0)
    {
        var x = this;
        var g = PoolCheck("MaxPool2d", kernel, stride, padding);
        var y = Uninitialized([_shape[0], _shape[1], g.OutH, g.OutW]);
        ForPlanes(this, y, (s, d) => Pooling.MaxForward(g, s, d));
        return y.Record("maxpool2d", x, gy =>
        {
            var gx = Uninitialized(x._shape);
            ForPlanePairs(x, gy, gx, (s, go, gi) => Pooling.MaxBackward(g, s, go, gi));
            x.AccumulateGrad(gx, owned: true);
        });
    }

    /// <summary>
    /// Average pooling of [N, C, H, W] with a <paramref name="kernel"/>² window, <paramref name="stride"/> and zero
    /// <paramref name="padding"/>. <paramref name="countIncludePad"/> true divides every window by k² (PyTorch's
    /// default); false divides by the number of in-image pixels (as pytorch-fid's FID Inception blocks do).
    /// </summary>
    public Tensor AvgPool2d(int kernel, int stride, int padding = 0, bool countIncludePad = true)
    {
        var x = this;
        var g = PoolCheck("AvgPool2d", kernel, stride, padding);
        var y = Uninitialized([_shape[0], _shape[1], g.OutH, g.OutW]);
        ForPlanes(this, y, (s, d) => Pooling.AvgForward(g, countIncludePad, s, d));
        return y.Record("avgpool2d", x, gy =>
        {
            var gx = Uninitialized(x._shape);
            ForPlanes(gy, gx, (s, d) => Pooling.AvgBackward(g, countIncludePad, s, d));
            x.AccumulateGrad(gx, owned: true);
        });
    }

    private PoolGeometry PoolCheck(string op, int kernel, int stride, int padding)
    {
        RequireRank(4, op);
        if (kernel < 1 || stride < 1 || padding < 0)
            throw new ArgumentException($"{op}: kernel and stride must be >= 1 and padding >= 0, got kernel {kernel}, stride {stride}, padding {padding}.");
        if (2 * padding > kernel)
            throw new ArgumentException($"{op}: padding {padding} must be at most half the kernel {kernel} (as in PyTorch).");
        var g = new PoolGeometry(_shape[2], _shape[3], kernel, stride, padding);
        if (_shape[2] + 2 * padding < kernel || _shape[3] + 2 * padding < kernel)
            throw new ArgumentException($"{op}: kernel {kernel} is larger than the padded input of shape {Shapes.Format(_shape)} (padding {padding}).");
        return g;
    }

    private delegate void PlanePairKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst);

    /// <summary>Runs a kernel over the N·C planes of a, b and dst together (each with its own plane size), in parallel when large.</summary>
    private static void ForPlanePairs(Tensor a, Tensor b, Tensor dst, PlanePairKernel kernel)
    {
        int planes = a._shape[0] * a._shape[1];
        if (planes == 0) return;
        int aPlane = a.Size / planes, bPlane = b.Size / planes, dPlane = dst.Size / planes;
        float[] ad = a._data, bd = b._data, dd = dst._data;
        Parallelism.For(planes, (p0, np) =>
        {
            for (int p = p0; p < p0 + np; p++)
                kernel(ad.AsSpan(p * aPlane, aPlane), bd.AsSpan(p * bPlane, bPlane), dd.AsSpan(p * dPlane, dPlane));
        }, minChunk: Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, aPlane + bPlane + dPlane)));
    }
}
