using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Fused bias + activation: one pass instead of a broadcast add plus an activation (two outputs, three passes),
// and a backward that computes dx and db together from the recomputed pre-activation.
public sealed partial class Tensor
{
    /// <summary>
    /// act(x + bias) with <paramref name="bias"/> [C] added along axis 1: per channel for x [N, C, H, W] (or any
    /// trailing dims), per feature for x [N, F].
    /// </summary>
    public static Tensor AddBiasActivation(Tensor x, Tensor bias, Activation act)
    {
        if (x.Rank < 2)
            throw new ArgumentException($"AddBiasActivation expects x of shape [N, C, ...], got {Shapes.Format(x._shape)}.");
        int n = x._shape[0], c = x._shape[1], s = x.Size / Math.Max(1, n * c);
        RequireChannelVector(bias, c, "AddBiasActivation bias", x);
        if (!Enum.IsDefined(act)) throw new ArgumentOutOfRangeException(nameof(act), act, "Unknown activation.");
        var y = Uninitialized(x._shape);
        if (y.Size > 0) BiasActivationKernel.Forward(x._data, bias._data, y._data, n, c, s, act);
        return y.Record("bias_" + act.ToString().ToLowerInvariant(), [x, bias], g =>
        {
            if (y.Size == 0) { x.AccumulateGrad(Zeros(x._shape), owned: true); bias.AccumulateGrad(Zeros(c), owned: true); return; }
            var gp = Uninitialized(x._shape);
            var sumG = bias.RequiresGrad && s > 1 ? new double[n * c] : null;
            BiasActivationKernel.Backward(x._data, bias._data, g._data, gp._data, n, c, s, act, sumG);
            if (bias.RequiresGrad) bias.AccumulateGrad(new Tensor(BiasActivationKernel.ReduceBias(gp._data, sumG, n, c, s), c), owned: true);
            if (x.RequiresGrad) x.AccumulateGrad(gp, owned: true);
        });
    }
}
