using Cedm.Nn;

namespace Cedm.Diffusion.Networks;

/// <summary>
/// An ordered name → module container, the counterpart of the reference's <c>torch.nn.ModuleDict</c> "enc"/"dec",
/// so parameter paths read "enc.32x32_block0.conv0.weight" exactly as in EDM checkpoints.
/// </summary>
internal sealed class ModuleDict : Module
{
    private readonly List<(string Name, Module Module)> _items = [];

    public IReadOnlyList<(string Name, Module Module)> Items => _items;

    public T Add<T>(string name, T module) where T : Module
    {
        RegisterModule(name, module);
        _items.Add((name, module));
        return module;
    }
}
