using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Nn;

// State dict: the ordered name → tensor map that checkpoints save, and loading it back with strict checks.
public abstract partial class Module
{
    /// <summary>
    /// Parameters then buffers of each module, depth-first in registration order, keyed by dotted path.
    /// The tensors are the live ones (not copies): clone them if the module keeps training.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var d = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (path, m) in NamedModules())
        {
            foreach (var (name, t) in m._parameters) if (seen.Add(t)) d.Add(Join(path, name), t);
            foreach (var (name, t) in m._buffers) if (seen.Add(t)) d.Add(Join(path, name), t);
        }
        return d;
    }

    /// <summary>
    /// Copies values into this module's existing tensors (so optimisers holding them stay valid).
    /// A shape mismatch always throws. With <paramref name="strict"/>, keys missing from <paramref name="state"/>
    /// or not present in the module also throw, listing all of them; otherwise they are returned.
    /// Nothing is written unless every check passes.
    /// </summary>
    public StateDictLoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        foreach (var (key, target) in own)
        {
            if (state.TryGetValue(key, out var source) && !Shapes.Equal(source.Shape, target.Shape))
                problems.Add($"'{key}': checkpoint shape {Shapes.Format(source.Shape)}, module shape {Shapes.Format(target.Shape)}");
        }
        if (strict)
        {
            if (missing.Count > 0) problems.Add("missing keys: " + string.Join(", ", missing));
            if (unexpected.Count > 0) problems.Add("unexpected keys: " + string.Join(", ", unexpected));
        }
        if (problems.Count > 0)
            throw new StateDictException($"Cannot load state into {GetType().Name}: " + string.Join("; ", problems) + ".", missing, unexpected);

        using (GradMode.NoGrad())
        {
            foreach (var (key, target) in own)
                if (state.TryGetValue(key, out var source) && !ReferenceEquals(source.Data, target.Data))
                    source.Data.AsSpan().CopyTo(target.Data);
        }
        return new StateDictLoadResult(missing, unexpected);
    }
}

/// <summary>Keys that a non-strict <see cref="Module.LoadStateDict"/> skipped.</summary>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);

/// <summary>A state dict that does not fit the module (missing/unexpected keys or shape mismatches).</summary>
public sealed class StateDictException(string message, IReadOnlyList<string> missingKeys, IReadOnlyList<string> unexpectedKeys)
    : Exception(message)
{
    public IReadOnlyList<string> MissingKeys { get; } = missingKeys;

    public IReadOnlyList<string> UnexpectedKeys { get; } = unexpectedKeys;
}
