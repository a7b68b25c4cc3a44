using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>Layer normalisation over the last dimension with affine γ ("weight", init 1), β ("bias", init 0).</summary>
public sealed class LayerNorm : Layer
{
    public int NormalizedSize { get; }

    public float Eps { get; }

    public Tensor? Weight { get; }

    public Tensor? Bias { get; }

    public LayerNorm(int normalizedSize, float eps = 1e-5f, bool affine = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(normalizedSize, 1);
        NormalizedSize = normalizedSize;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(normalizedSize));
            Bias = RegisterParameter("bias", Tensor.Zeros(normalizedSize));
        }
    }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank < 1 || x.Dim(-1) != NormalizedSize)
            throw new ArgumentException($"LayerNorm({NormalizedSize}) expects [..., {NormalizedSize}], got {Shapes.Format(x.Shape)}.");
        return Tensor.LayerNorm(x, Weight, Bias, Eps);
    }
}
