using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>y = x·Wᵀ + b over the last axis (spec §2.1); weight [out, in], bias [out].</summary>
public sealed class Linear : Layer
{
    public int InFeatures { get; }

    public int OutFeatures { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    /// <param name="init">Defaults to PyTorch's (U(±1/√in) for weight and bias); SongUNet passes <see cref="WeightInit.Song"/>.</param>
    public Linear(int inFeatures, int outFeatures, Rng rng, bool bias = true, WeightInit? init = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Zeros(outFeatures, inFeatures));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(outFeatures));
        (init ?? WeightInit.Torch).Apply(Weight, Bias, rng);
    }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank < 1 || x.Dim(-1) != InFeatures)
            throw new ArgumentException($"Linear({InFeatures}→{OutFeatures}) got input of shape {Shapes.Format(x.Shape)}.");
        return Tensor.Linear(x, Weight, Bias);
    }
}
