using System.Globalization;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Nn.Optim;

/// <summary>
/// Base of the optimisers: parameter groups, per-parameter state, <see cref="Step"/> over every parameter that
/// has a gradient, and a state dict for checkpoints. Updates write into the parameters' data in place, so
/// modules and EMA copies holding them see the new values.
/// </summary>
public abstract class Optimizer
{
    private readonly ParamGroup[] _groups;
    private readonly Dictionary<Tensor, ParamState> _state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<ParamGroup> groups, double defaultLr, double defaultWeightDecay)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups.ToArray();
        if (_groups.Length == 0) throw new ArgumentException("An optimiser needs at least one parameter group.");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in _groups)
        {
            g.Lr ??= defaultLr;
            g.WeightDecay ??= defaultWeightDecay;
            if (!(g.Lr >= 0)) throw new ArgumentOutOfRangeException(nameof(groups), $"Group '{g.Name}' has learning rate {g.Lr}.");
            if (!(g.WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(groups), $"Group '{g.Name}' has weight decay {g.WeightDecay}.");
            foreach (var p in g.Parameters)
                if (!seen.Add(p)) throw new ArgumentException($"A parameter of shape {Shapes.Format(p.Shape)} appears in more than one group.");
        }
    }

    public IReadOnlyList<ParamGroup> Groups => _groups;

    /// <summary>Sets the learning rate of every group (schedules call this before each step).</summary>
    public void SetLr(double lr)
    {
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "Learning rate must be ≥ 0.");
        foreach (var g in _groups) g.Lr = lr;
    }

    /// <summary>All parameters in group order: the flat indices used by <see cref="StateDict"/>.</summary>
    public IEnumerable<Tensor> Parameters() => _groups.SelectMany(g => g.Parameters);

    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>The state of <paramref name="p"/>, or null before its first update.</summary>
    public ParamState? StateOf(Tensor p) => _state.GetValueOrDefault(p);

    /// <summary>One update of every parameter that has a gradient; parameters without one are left alone.</summary>
    public void Step()
    {
        foreach (var g in _groups)
        {
            foreach (var p in g.Parameters)
            {
                var grad = p.Grad;
                if (grad == null) continue;
                if (!Shapes.Equal(grad.Shape, p.Shape))
                    throw new InvalidOperationException($"Gradient shape {Shapes.Format(grad.Shape)} differs from parameter shape {Shapes.Format(p.Shape)}.");
                if (!_state.TryGetValue(p, out var s)) _state.Add(p, s = new ParamState());
                foreach (var name in BufferNames) s.Buffer(name, p);
                s.Step++;
                var ctx = new UpdateContext(g.Lr!.Value, g.WeightDecay!.Value, s.Step);
                var pd = p.Data;
                var gd = grad.Data;
                Parallelism.For(pd.Length, (start, len) => Update(pd.AsSpan(start, len), gd.AsSpan(start, len), s, ctx, start));
            }
        }
    }

    /// <summary>The hyper-parameters of one parameter's update.</summary>
    protected readonly record struct UpdateContext(double Lr, double WeightDecay, long Step);

    /// <summary>
    /// Updates the chunk [offset, offset + p.Length) of one parameter. Chunks of one parameter may run in
    /// parallel, so state buffers must be created before the first call (see <see cref="BufferNames"/>).
    /// </summary>
    protected abstract void Update(Span<float> p, ReadOnlySpan<float> grad, ParamState state, UpdateContext ctx, int offset);

    /// <summary>Names of the per-parameter buffers this optimiser keeps (all created on a parameter's first step).</summary>
    protected abstract IReadOnlyList<string> BufferNames { get; }

    /// <summary>The chunk of a state buffer matching the parameter chunk being updated.</summary>
    protected static Span<float> Slice(ParamState s, string name, int offset, int length) => s.Buffers[name].Data.AsSpan(offset, length);

    // ---- checkpoints ---------------------------------------------------------------------------------

    /// <summary>
    /// "state.{i}.step" (a one-element tensor) and "state.{i}.{buffer}" for every parameter i (flat index over the
    /// groups) that has been updated. Hyper-parameters are not included: they come from the options and schedule.
    /// Tensors are copies.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var d = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        int i = 0;
        foreach (var p in Parameters())
        {
            if (_state.TryGetValue(p, out var s))
            {
                if (s.Step > 1 << 24) throw new InvalidOperationException($"Step {s.Step} does not fit a float32 state tensor exactly.");
                d.Add(Key(i, "step"), Tensor.Scalar(s.Step));
                foreach (var (name, b) in s.Buffers) d.Add(Key(i, name), b.Clone());
            }
            i++;
        }
        return d;
    }

    /// <summary>Replaces all state with <paramref name="state"/> (from <see cref="StateDict"/>), after checking every key and shape.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var ps = Parameters().ToArray();
        var loaded = new Dictionary<int, ParamState>();
        var problems = new List<string>();
        var unexpected = new List<string>();
        foreach (var (key, t) in state)
        {
            var parts = key.Split('.');
            if (parts.Length != 3 || parts[0] != "state" || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
                || i >= ps.Length || (parts[2] != "step" && !BufferNames.Contains(parts[2])))
            {
                unexpected.Add(key);
                continue;
            }
            if (!loaded.TryGetValue(i, out var s)) loaded.Add(i, s = new ParamState());
            if (parts[2] == "step")
            {
                if (t.Size != 1 || t.Data[0] < 1 || t.Data[0] != MathF.Floor(t.Data[0])) problems.Add($"'{key}' is not a positive whole step count");
                else s.Step = (long)t.Data[0];
            }
            else if (!Shapes.Equal(t.Shape, ps[i].Shape))
                problems.Add($"'{key}': shape {Shapes.Format(t.Shape)}, parameter shape {Shapes.Format(ps[i].Shape)}");
            else s.Buffers.Add(parts[2], t.Clone());
        }
        var missing = new List<string>();
        foreach (var (i, s) in loaded)
        {
            if (s.Step == 0) missing.Add(Key(i, "step"));
            foreach (var name in BufferNames) if (!s.Buffers.ContainsKey(name)) missing.Add(Key(i, name));
        }
        if (unexpected.Count > 0) problems.Add("unexpected keys: " + string.Join(", ", unexpected));
        if (missing.Count > 0) problems.Add("missing keys: " + string.Join(", ", missing));
        if (problems.Count > 0)
            throw new StateDictException($"Cannot load {GetType().Name} state: " + string.Join("; ", problems) + ".", missing, unexpected);
        _state.Clear();
        foreach (var (i, s) in loaded)
        {
            // Keep the buffer order canonical regardless of the dictionary's order.
            var ordered = new ParamState { Step = s.Step };
            foreach (var name in BufferNames) ordered.Buffers.Add(name, s.Buffers[name]);
            _state.Add(ps[i], ordered);
        }
    }

    private static string Key(int i, string name) => $"state.{i.ToString(CultureInfo.InvariantCulture)}.{name}";
}
