using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Clustering.Temi;

/// <summary>
/// One TEMI head (spec §4.3, DINO head with nlayers 2, no batch norm): z = Linear(D→hidden) → GELU →
/// Linear(hidden→bottleneck); z ← z/‖z‖₂; logits = WeightNormLinear(bottleneck→K, no bias) with trainable g.
/// MLP weights truncated-normal std 0.02 (cut at ±2), biases 0; v PyTorch's default U(±1/√bottleneck), g = 1.
/// Parameter paths: mlp0.{weight,bias}, mlp1.{weight,bias}, last.{weight_g,weight_v}.
/// </summary>
public sealed class TemiHead : Layer
{
    public TemiHead(int inputDim, int k, int hidden, int bottleneck, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        InputDim = inputDim; K = k; Hidden = hidden; Bottleneck = bottleneck;
        Mlp0 = RegisterModule("mlp0", new Linear(inputDim, hidden, rng, init: WeightInit.DinoTruncNormal));
        Mlp1 = RegisterModule("mlp1", new Linear(hidden, bottleneck, rng, init: WeightInit.DinoTruncNormal));
        Last = RegisterModule("last", new WeightNormLinear(bottleneck, k, rng));
    }

    public int InputDim { get; }

    public int K { get; }

    public int Hidden { get; }

    public int Bottleneck { get; }

    public Linear Mlp0 { get; }

    public Linear Mlp1 { get; }

    /// <summary>The weight-normalised last layer (frozen during epoch 0, spec §4.5).</summary>
    public WeightNormLinear Last { get; }

    /// <summary>The L2-normalised bottleneck embedding [rows, bottleneck].</summary>
    public Tensor Embed(Tensor x) => Mlp1.Forward(Mlp0.Forward(x).Gelu()).L2Normalize(axis: -1);

    /// <summary>Logits [rows, K] (before the temperature).</summary>
    public override Tensor Forward(Tensor x) => Last.Forward(Embed(x));
}
