using Cedm.Features.Networks;
using Cedm.Tensors;

namespace Cedm.Features.Inception;

/// <summary>
/// Inception-v3's BasicConv2d — conv (no bias) → BatchNorm(eps 1e-3, running statistics) → ReLU — with the
/// BatchNorm folded into the convolution at load time: with k = γ/√(var + eps), W' = W·k (per output channel)
/// and b' = β − mean·k, so inference is one biased conv and a ReLU. Folding is done in double and rounded once;
/// it changes results only by float rounding (the fixtures confirm 1e-4 relative agreement with the unfolded
/// PyTorch module). Channel counts come from the stored weight; kernel, stride and padding from the architecture.
/// </summary>
internal sealed class FoldedConv
{
    private const double BatchNormEps = 1e-3;
    private readonly Tensor _w, _b;
    private readonly int _stride, _padH, _padW;

    /// <param name="name">PretrainedWeights prefix, e.g. "Mixed_6b.branch7x7_2".</param>
    /// <param name="inChannels">Channels of the input this conv sees (validated against the stored weight).</param>
    public FoldedConv(PretrainedWeights ck, string name, int inChannels, int kh, int kw, int stride = 1, int padH = 0, int padW = 0)
    {
        var w = ck.Require(name + ".conv.weight", -1, inChannels, kh, kw);
        int cout = w.Dim(0);
        var gamma = ck.Require(name + ".bn.weight", cout).Data;
        var beta = ck.Require(name + ".bn.bias", cout).Data;
        var mean = ck.Require(name + ".bn.running_mean", cout).Data;
        var variance = ck.Require(name + ".bn.running_var", cout).Data;
        ck.Optional(name + ".bn.num_batches_tracked"); // training counter, irrelevant at inference
        int per = inChannels * kh * kw;
        var wf = new float[w.Size];
        var bf = new float[cout];
        for (int o = 0; o < cout; o++)
        {
            if (!(variance[o] >= 0))
                throw new InvalidDataException($"{ck.Source}: '{ck.Prefix}{name}.bn.running_var' has a negative or NaN entry at {o}.");
            double k = gamma[o] / Math.Sqrt(variance[o] + BatchNormEps);
            for (int i = 0; i < per; i++) wf[o * per + i] = (float)(w.Data[o * per + i] * k);
            bf[o] = (float)(beta[o] - mean[o] * k);
        }
        _w = new Tensor(wf, cout, inChannels, kh, kw);
        _b = new Tensor(bf, cout);
        _stride = stride;
        _padH = padH;
        _padW = padW;
        OutChannels = cout;
    }

    public int OutChannels { get; }

    public Tensor Forward(Tensor x) => Tensor.Conv2d(x, _w, _b, _stride, _stride, _padH, _padW).Relu();

    /// <summary>"Same" padding (k−1)/2 per axis: the stride-1 convs that keep the grid (1×7 → (0, 3), 3×3 → (1, 1)).</summary>
    public static FoldedConv Same(PretrainedWeights ck, string name, int inChannels, int kh, int kw) =>
        new(ck, name, inChannels, kh, kw, 1, (kh - 1) / 2, (kw - 1) / 2);
}
