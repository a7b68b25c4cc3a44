namespace Cedm.Tensors;

/// <summary>Activations that fused ops (<see cref="Tensor.AddBiasActivation"/>) can apply in the same pass.</summary>
public enum Activation
{
    None,
    Relu,
    Silu,
    /// <summary>Exact erf form x·Φ(x), as <see cref="Tensor.Gelu"/>.</summary>
    Gelu,
}
