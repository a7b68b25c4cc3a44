using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>Collapses every dimension after the batch axis ([N, C, H, W] → [N, C·H·W]); a view, no copy.</summary>
public sealed class Flatten : Layer
{
    public override Tensor Forward(Tensor x) => x.Flatten(1);
}
