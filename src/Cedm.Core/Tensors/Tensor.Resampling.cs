using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// SongUNet's resampling filters (spec §2.1: "up" = nearest ×2, "down" = 2×2 average, stride 2; both depthwise and
// applied before the weight conv) and constant 2-D padding (e.g. 28×28 → 32×32). All act on NCHW per plane.
public sealed partial class Tensor
{
    /// <summary>Nearest-neighbour ×2 upsampling: [N, C, H, W] → [N, C, 2H, 2W], each pixel becomes a 2×2 block.</summary>
    public Tensor Upsample2xNearest()
    {
        var x = this;
        RequireRank(4, "Upsample2xNearest");
        int h = _shape[2], w = _shape[3];
        var y = Uninitialized([_shape[0], _shape[1], 2 * h, 2 * w]);
        ForPlanes(this, y, (s, d) => Resampling.Upsample2x(s, h, w, d));
        return y.Record("upsample2x", x, g =>
        {
            var gx = Uninitialized(x._shape);
            ForPlanes(g, gx, (s, d) => Resampling.Upsample2xBackward(s, h, w, d));
            x.AccumulateGrad(gx, owned: true);
        });
    }

    /// <summary>2×2 average pooling with stride 2: [N, C, H, W] → [N, C, ⌊H/2⌋, ⌊W/2⌋] (odd edges dropped, as in PyTorch).</summary>
    public Tensor AvgPool2x()
    {
        var x = this;
        RequireRank(4, "AvgPool2x");
        int h = _shape[2], w = _shape[3];
        if (h < 2 || w < 2)
            throw new ArgumentException($"AvgPool2x needs H, W >= 2, got shape {Shapes.Format(_shape)}.");
        var y = Uninitialized([_shape[0], _shape[1], h / 2, w / 2]);
        ForPlanes(this, y, (s, d) => Resampling.AvgPool2x(s, h, w, d));
        return y.Record("avgpool2x", x, g =>
        {
            var gx = Uninitialized(x._shape);
            ForPlanes(g, gx, (s, d) => Resampling.AvgPool2xBackward(s, h, w, d));
            x.AccumulateGrad(gx, owned: true);
        });
    }

    /// <summary>Pads the last two dims of [N, C, H, W] with a constant: → [N, C, top+H+bottom, left+W+right].</summary>
    public Tensor Pad2d(int top, int bottom, int left, int right, float value = 0f)
    {
        var x = this;
        RequireRank(4, "Pad2d");
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ArgumentException($"Pad2d: padding must be >= 0, got (top {top}, bottom {bottom}, left {left}, right {right}) for shape {Shapes.Format(_shape)}.");
        int h = _shape[2], w = _shape[3], oh = top + h + bottom, ow = left + w + right;
        var y = Uninitialized([_shape[0], _shape[1], oh, ow]);
        ForPlanes(this, y, (s, d) => Resampling.Pad(s, h, w, top, left, ow, value, d));
        return y.Record("pad2d", x, g =>
        {
            var gx = Uninitialized(x._shape);
            ForPlanes(g, gx, (s, d) => Resampling.PadBackward(s, h, w, top, left, ow, d));
            x.AccumulateGrad(gx, owned: true);
        });
    }

    private delegate void PlaneKernel(ReadOnlySpan<float> src, Span<float> dst);

    /// <summary>Runs a per-plane kernel over the N·C planes of src and dst (same plane count), in parallel when large.</summary>
    private static void ForPlanes(Tensor src, Tensor dst, PlaneKernel kernel)
    {
        int planes = src._shape[0] * src._shape[1];
        if (planes == 0) return;
        int inPlane = src.Size / planes, outPlane = dst.Size / planes;
        float[] s = src._data, d = dst._data;
        Parallelism.For(planes, (p0, np) =>
        {
            for (int p = p0; p < p0 + np; p++)
                kernel(s.AsSpan(p * inPlane, inPlane), d.AsSpan(p * outPlane, outPlane));
        }, minChunk: Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, inPlane + outPlane)));
    }
}
