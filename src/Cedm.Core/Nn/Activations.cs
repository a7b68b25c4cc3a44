using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>x·σ(x), SongUNet's activation (spec §2.1).</summary>
public sealed class SiLU : Layer
{
    public override Tensor Forward(Tensor x) => x.Silu();
}

/// <summary>Exact (erf) GELU, as in TEMI's head MLP (spec §4.3).</summary>
public sealed class GELU : Layer
{
    public override Tensor Forward(Tensor x) => x.Gelu();
}

public sealed class ReLU : Layer
{
    public override Tensor Forward(Tensor x) => x.Relu();
}

/// <summary>Passes its input through (a placeholder where a block is optional).</summary>
public sealed class Identity : Layer
{
    public override Tensor Forward(Tensor x) => x;
}

/// <summary>LeakyReLU with a fixed negative slope (TreeVAE: 0.3, related-seeds A.5).</summary>
public sealed class LeakyReLU(float slope = 0.01f) : Layer
{
    public float Slope { get; } = slope;

    public override Tensor Forward(Tensor x) => x.LeakyRelu(Slope);
}
