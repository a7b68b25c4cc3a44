using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// TEMI's last head layer (spec §4.3): a bias-free linear map with weight-normalised rows
/// W_k = g_k·v_k/‖v_k‖. v [out, in] starts with PyTorch's default Linear init U(±1/√in); g [out, 1] starts at 1 and
/// is trainable (norm_last_layer = False). g is kept 2-D as in PyTorch's weight_norm, so TEMI's AdamW groups
/// (decay on ≥2-D parameters, §4.5) put it with the weights. Built from L2Normalize and Mul, so its gradients
/// come from those ops' backward rules.
/// </summary>
public sealed class WeightNormLinear : Layer
{
    public int InFeatures { get; }

    public int OutFeatures { get; }

    /// <summary>Direction parameter v, [out, in].</summary>
    public Tensor V { get; }

    /// <summary>Magnitude parameter g, [out, 1].</summary>
    public Tensor G { get; }

    public WeightNormLinear(int inFeatures, int outFeatures, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        // PyTorch's weight_norm names them weight_g / weight_v; the order (g, then v) follows its registration.
        G = RegisterParameter("weight_g", Tensor.Ones(outFeatures, 1));
        V = RegisterParameter("weight_v", Tensor.Zeros(outFeatures, inFeatures));
        Init.TorchDefault(V, rng, inFeatures);
    }

    /// <summary>The effective weight g·v/‖v‖ (differentiable).</summary>
    public Tensor EffectiveWeight() => V.L2Normalize(axis: 1) * G;

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank < 1 || x.Dim(-1) != InFeatures)
            throw new ArgumentException($"WeightNormLinear({InFeatures}→{OutFeatures}) got input of shape {Shapes.Format(x.Shape)}.");
        return Tensor.Linear(x, EffectiveWeight());
    }
}
