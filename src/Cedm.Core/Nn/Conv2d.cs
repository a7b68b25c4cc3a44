using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// 2-D convolution layer over NCHW input via <see cref="Tensor.Conv2d(Tensor, Tensor, Tensor?, int, int)"/>:
/// weight [out, in, k, k], bias [out]. Padding defaults to k/2 ("same" for odd k at stride 1), the only form
/// SongUNet uses (spec §2.1); its up/down variants resample before this layer.
/// </summary>
public sealed class Conv2d : Layer
{
    public int InChannels { get; }

    public int OutChannels { get; }

    public int KernelSize { get; }

    public int Stride { get; }

    public int Padding { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    /// <param name="padding">Zero padding on each side; null = kernel/2.</param>
    /// <param name="init">Defaults to PyTorch's (U(±1/√fan_in), fan_in = in·k²); SongUNet passes <see cref="WeightInit.Song"/> etc.</param>
    public Conv2d(int inChannels, int outChannels, int kernelSize, Rng rng, int stride = 1, int? padding = null,
        bool bias = true, WeightInit? init = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding ?? kernelSize / 2;
        ArgumentOutOfRangeException.ThrowIfNegative(Padding, nameof(padding));
        Weight = RegisterParameter("weight", Tensor.Zeros(outChannels, inChannels, kernelSize, kernelSize));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(outChannels));
        (init ?? WeightInit.Torch).Apply(Weight, Bias, rng);
    }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(1) != InChannels)
            throw new ArgumentException($"Conv2d({InChannels}→{OutChannels}, k={KernelSize}) expects [N, {InChannels}, H, W], got {Shapes.Format(x.Shape)}.");
        return Tensor.Conv2d(x, Weight, Bias, Stride, Padding);
    }
}
