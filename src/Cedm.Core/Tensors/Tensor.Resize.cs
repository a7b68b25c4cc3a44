using System.Buffers;
using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Bilinear/bicubic resizing of float NCHW images (feature-extractor preprocessing, spec §4.1, §6.1, §6.2, and
// ViT positional-embedding interpolation). Semantics are PyTorch's F.interpolate(align_corners=False), with and
// without antialias; see ResizeAxis for the exact tap construction. Differentiable (the adjoint is cheap).
public sealed partial class Tensor
{
    /// <summary>
    /// Resizes [N, C, H, W] to [N, C, <paramref name="outH"/>, <paramref name="outW"/>] like
    /// <c>F.interpolate(x, size=(outH, outW), mode=filter, align_corners=False, antialias=antialias)</c>.
    /// <paramref name="scaleH"/>/<paramref name="scaleW"/> (input pixels per output pixel) override the coordinate
    /// scale H/outH, W/outW: PyTorch uses 1/scale_factor when called with a scale factor instead of a size.
    /// Antialias=true is PIL's <c>Image.resize</c> filter construction (bicubic a = −0.5) on floats, without
    /// PIL's rounding to uint8.
    /// </summary>
    public Tensor Resize2d(int outH, int outW, ResizeFilter filter, bool antialias = false, double? scaleH = null, double? scaleW = null)
    {
        var x = this;
        RequireRank(4, "Resize2d");
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"Resize2d: output size must be positive, got {outH}x{outW} for input {Shapes.Format(_shape)}.");
        if (!Enum.IsDefined(filter)) throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown resize filter.");
        int h = _shape[2], w = _shape[3];
        if (h < 1 || w < 1) throw new ArgumentException($"Resize2d: empty input plane {Shapes.Format(_shape)}.");
        double sh = scaleH ?? (double)h / outH, sw = scaleW ?? (double)w / outW;
        if (!(sh > 0) || !(sw > 0) || double.IsInfinity(sh) || double.IsInfinity(sw))
            throw new ArgumentException($"Resize2d: coordinate scales must be finite and positive, got ({sh}, {sw}).");
        var ay = ResizeAxis.Build(h, outH, filter, antialias, sh);
        var ax = ResizeAxis.Build(w, outW, filter, antialias, sw);
        var y = Uninitialized([_shape[0], _shape[1], outH, outW]);
        ForPlanesWithScratch(this, y, h * outW, (s, tmp, d) => SeparableResize.Forward(ay, ax, s, tmp, d));
        return y.Record("resize2d", x, g =>
        {
            var gx = Uninitialized(x._shape);
            ForPlanesWithScratch(g, gx, h * outW, (s, tmp, d) => SeparableResize.Backward(ay, ax, s, tmp, d));
            x.AccumulateGrad(gx, owned: true);
        });
    }

    private delegate void ScratchPlaneKernel(ReadOnlySpan<float> src, Span<float> scratch, Span<float> dst);

    /// <summary>As ForPlanes, with a per-worker scratch buffer of <paramref name="scratchSize"/> floats.</summary>
    private static void ForPlanesWithScratch(Tensor src, Tensor dst, int scratchSize, ScratchPlaneKernel kernel)
    {
        int planes = src._shape[0] * src._shape[1];
        if (planes == 0) return;
        int inPlane = src.Size / planes, outPlane = dst.Size / planes;
        float[] s = src._data, d = dst._data;
        Parallelism.For(planes, (p0, np) =>
        {
            float[] tmp = ArrayPool<float>.Shared.Rent(scratchSize);
            try
            {
                for (int p = p0; p < p0 + np; p++)
                    kernel(s.AsSpan(p * inPlane, inPlane), tmp.AsSpan(0, scratchSize), d.AsSpan(p * outPlane, outPlane));
            }
            finally { ArrayPool<float>.Shared.Return(tmp); }
        }, minChunk: Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, inPlane + outPlane + scratchSize)));
    }
}
