using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// A building block that owns parameters (trainable leaves), buffers (non-trainable state saved with the
/// parameters) and child modules, all registered explicitly in the constructor. Registration order is the
/// discovery order, so <see cref="NamedParameters"/>, <see cref="StateDict"/> and the optimiser's parameter
/// indices are stable across runs; paths are dotted ("enc.0.conv.weight") as in PyTorch checkpoints.
/// Single-input layers derive from <see cref="Layer"/>; modules with several inputs define their own methods.
/// </summary>
public abstract partial class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = [];
    private readonly List<(string Name, Tensor Tensor)> _buffers = [];
    private readonly List<(string Name, Module Module)> _children = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>True in training mode (the default): dropout is active. Set through <see cref="SetTraining"/>.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Registers a trainable tensor (marked RequiresGrad) under <paramref name="name"/> and returns it.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ClaimName(name);
        tensor.RequiresGrad = true;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a non-trainable tensor that is part of the state dict (e.g. a running statistic).</summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ClaimName(name);
        _buffers.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a child; its parameters appear under "<paramref name="name"/>.…". Takes the child's mode.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        if (ReferenceEquals(module, this)) throw new ArgumentException($"Module '{name}' cannot contain itself.");
        ClaimName(name);
        module.SetMode(IsTraining);
        _children.Add((name, module));
        return module;
    }

    private void ClaimName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"Invalid member name '{name}' in {GetType().Name}: it must be non-empty and contain no '.'.");
        if (!_names.Add(name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.");
    }

    /// <summary>Direct children in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> Children() => _children;

    /// <summary>This module ("") and every descendant with its dotted path, depth-first in registration order.</summary>
    public IEnumerable<(string Path, Module Module)> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return Walk("", this, seen);

        static IEnumerable<(string, Module)> Walk(string path, Module m, HashSet<Module> seen)
        {
            if (!seen.Add(m)) yield break;
            yield return (path, m);
            foreach (var (name, child) in m._children)
                foreach (var item in Walk(Join(path, name), child, seen)) yield return item;
        }
    }

    /// <summary>Every parameter with its dotted path; a tensor shared by two modules is listed once (first path).</summary>
    public IEnumerable<(string Path, Tensor Tensor)> NamedParameters() => Collect(m => m._parameters);

    /// <summary>Every buffer with its dotted path.</summary>
    public IEnumerable<(string Path, Tensor Tensor)> NamedBuffers() => Collect(m => m._buffers);

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor);

    private IEnumerable<(string, Tensor)> Collect(Func<Module, List<(string Name, Tensor Tensor)>> members)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (path, m) in NamedModules())
            foreach (var (name, t) in members(m))
                if (seen.Add(t)) yield return (Join(path, name), t);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Number of trainable scalars (shared tensors counted once).</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Size);

    /// <summary>
    /// Sets training mode (true: dropout active) on this module and all descendants. The fluent forms
    /// <c>net.Train()</c> / <c>net.Eval()</c> (<see cref="ModuleExtensions"/>) return the module with its own type.
    /// </summary>
    public void SetTraining(bool training)
    {
        foreach (var (_, m) in NamedModules()) m.IsTraining = training;
    }

    private void SetMode(bool training) => SetTraining(training);

    /// <summary>
    /// Evaluation mode until disposed, then every module's own mode again (a model whose frozen part is in evaluation
    /// mode and whose new part trains keeps both).
    /// </summary>
    public IDisposable EvaluationScope()
    {
        var modes = NamedModules().Select(m => (m.Module, m.Module.IsTraining)).ToArray();
        SetTraining(false);
        return new ModeRestore(modes);
    }

    private sealed class ModeRestore((Module Module, bool Training)[] modes) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (m, training) in modes) m.IsTraining = training;
        }
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Marks every parameter as trainable or frozen (an EMA or teacher copy is frozen).</summary>
    public void SetRequiresGrad(bool requiresGrad)
    {
        foreach (var p in Parameters()) p.RequiresGrad = requiresGrad;
    }
}
