using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>Layers applied in order; children are named "0", "1", … as in PyTorch's nn.Sequential.</summary>
public sealed class Sequential : Layer
{
    private readonly List<Layer> _layers = [];

    public Sequential(params Layer[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    public IReadOnlyList<Layer> Layers => _layers;

    public Sequential Add(Layer layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public override Tensor Forward(Tensor x)
    {
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }
}
