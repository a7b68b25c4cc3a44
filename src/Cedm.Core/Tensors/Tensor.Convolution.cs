using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// 2-D convolution (cross-correlation, as in PyTorch) with zero padding; SongUNet's Conv2d primitive (spec §2.1).
public sealed partial class Tensor
{
    /// <summary>
    /// y = conv2d(x, weight) + bias. x: [N, Cin, H, W]; weight: [Cout, Cin, Kh, Kw] (any kernel size, 1×1 included);
    /// bias: [Cout] or null. Zero padding <paramref name="padding"/> on all four sides, same stride along both axes.
    /// Output [N, Cout, ⌊(H + 2p − Kh)/s⌋ + 1, ⌊(W + 2p − Kw)/s⌋ + 1].
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0) =>
        Conv2d(x, weight, bias, stride, stride, padding, padding);

    /// <summary>As <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int)"/> with separate vertical/horizontal stride and padding.</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, int strideH, int strideW, int padH, int padW)
    {
        var g = ConvGeometry(x, weight, bias, strideH, strideW, padH, padW);
        var y = Uninitialized([g.N, g.Cout, g.OutH, g.OutW]);
        Conv2dKernels.Forward(g, x._data, weight._data, bias?._data ?? [], y._data);
        Tensor[] inputs = bias == null ? [x, weight] : [x, weight, bias];
        return y.Record("conv2d", inputs, gy =>
        {
            var gx = x.RequiresGrad ? Uninitialized(x._shape) : null;
            var gw = weight.RequiresGrad ? Uninitialized(weight._shape) : null;
            var gb = bias is { RequiresGrad: true } ? Uninitialized(bias._shape) : null;
            Conv2dKernels.Backward(g, x._data, weight._data, gy._data, gx?._data, gw?._data, gb?._data);
            if (gx != null) x.AccumulateGrad(gx, owned: true);
            if (gw != null) weight.AccumulateGrad(gw, owned: true);
            if (gb != null) bias!.AccumulateGrad(gb, owned: true);
        });
    }

    /// <summary>Validates a convolution's operands and returns its geometry; messages print the shapes involved.</summary>
    private static Conv2dGeometry ConvGeometry(Tensor x, Tensor weight, Tensor? bias, int strideH, int strideW, int padH, int padW)
    {
        string Shapes_() => $"input {Shapes.Format(x._shape)}, weight {Shapes.Format(weight._shape)}" +
                            (bias == null ? "" : $", bias {Shapes.Format(bias._shape)}");
        if (x.Rank != 4)
            throw new ArgumentException($"Conv2d expects input [N, Cin, H, W], got {Shapes_()}.");
        if (weight.Rank != 4)
            throw new ArgumentException($"Conv2d expects weight [Cout, Cin, Kh, Kw], got {Shapes_()}.");
        if (weight._shape[1] != x._shape[1])
            throw new ArgumentException($"Conv2d: input has {x._shape[1]} channels but weight expects {weight._shape[1]} ({Shapes_()}).");
        if (bias != null && (bias.Rank != 1 || bias._shape[0] != weight._shape[0]))
            throw new ArgumentException($"Conv2d: bias should be [{weight._shape[0]}] ({Shapes_()}).");
        if (strideH < 1 || strideW < 1)
            throw new ArgumentException($"Conv2d: stride must be >= 1, got ({strideH}, {strideW}).");
        if (padH < 0 || padW < 0)
            throw new ArgumentException($"Conv2d: padding must be >= 0, got ({padH}, {padW}).");
        if (weight._shape[2] < 1 || weight._shape[3] < 1)
            throw new ArgumentException($"Conv2d: empty kernel ({Shapes_()}).");
        var g = new Conv2dGeometry(x._shape[0], x._shape[1], x._shape[2], x._shape[3], weight._shape[0],
            weight._shape[2], weight._shape[3], strideH, strideW, padH, padW);
        if (x._shape[2] + 2 * padH < g.Kh || x._shape[3] + 2 * padW < g.Kw)
            throw new ArgumentException($"Conv2d: kernel {g.Kh}x{g.Kw} is larger than the padded input " +
                                        $"{x._shape[2] + 2 * padH}x{x._shape[3] + 2 * padW} ({Shapes_()}, padding ({padH}, {padW})).");
        return g;
    }
}
