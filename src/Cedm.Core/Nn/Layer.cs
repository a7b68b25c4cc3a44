using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>A module with one input and one output (the common case: Linear, Conv2d, norms, activations).</summary>
public abstract class Layer : Module
{
    public abstract Tensor Forward(Tensor x);
}
