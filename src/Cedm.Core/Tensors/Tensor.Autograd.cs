using System.Numerics.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Tensors;

// Autograd: recording ops, backward from a scalar, gradient accumulation, detach.
public sealed partial class Tensor
{
    /// <summary>Leaves (parameters) set this; op outputs get it when any input requires a gradient.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient (leaves, and non-leaves that called <see cref="RetainGrad"/>).</summary>
    public Tensor? Grad { get; set; }

    internal GradNode? Node { get; private set; }

    private bool _retainGrad;
    private bool _gradOwned;

    public bool IsLeaf => Node == null;

    /// <summary>Keep this non-leaf tensor's gradient after backward (for inspection and tests).</summary>
    public Tensor RetainGrad() { _retainGrad = true; return this; }

    /// <summary>Marks this tensor as a trainable leaf and returns it.</summary>
    public Tensor RequireGrad() { RequiresGrad = true; return this; }

    /// <summary>Same data, no history: gradients stop here.</summary>
    public Tensor Detach() => new(_data, _shape);

    /// <summary>
    /// Attaches a backward rule to an op's output when recording is on and any input needs a gradient.
    /// Every op calls this right after computing its forward; the closure is its local chain rule.
    /// </summary>
    internal Tensor Record(string op, Tensor[] inputs, Action<Tensor> backward)
    {
        // Profiled before the grad-mode check so no-grad passes (sampling) are profiled too.
        if (OpProfiler.Enabled) op = OpProfiler.Forward(op, inputs, this);
        if (!WillRecord(inputs)) return this;
        RequiresGrad = true;
        Node = new GradNode(op, inputs, backward);
        return this;
    }

    /// <summary>
    /// Whether an op on <paramref name="inputs"/> gets a backward rule (recording on, an input needing a gradient): an op
    /// that keeps state only for its backward can skip keeping it otherwise.
    /// </summary>
    internal static bool WillRecord(params ReadOnlySpan<Tensor> inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs)
            if (t.RequiresGrad) return true;
        return false;
    }

    internal Tensor Record(string op, Tensor input, Action<Tensor> backward) => Record(op, [input], backward);

    /// <summary>
    /// Adds <paramref name="g"/> into this tensor's gradient (if it requires one). When <paramref name="owned"/> is
    /// true the caller hands over <paramref name="g"/> (freshly computed, referenced nowhere else) so the first
    /// accumulation need not copy it.
    /// </summary>
    internal void AccumulateGrad(Tensor g, bool owned = false)
    {
        if (!RequiresGrad) return;
        if (!Shapes.Equal(g._shape, _shape))
            throw new InvalidOperationException($"Gradient of shape {Shapes.Format(g._shape)} for a tensor of shape {Shapes.Format(_shape)}.");
        if (Grad == null)
        {
            // A non-leaf's gradient is only read by its own chain rule, so a borrowed one (e.g. the gradient an
            // add passes to both inputs) is kept by reference and copied only if a second contribution arrives.
            // Leaves and retained gradients are user-visible (optimisers scale them in place): always owned.
            bool borrow = !owned && Node != null && !_retainGrad;
            Grad = owned || borrow ? g : g.Clone();
            _gradOwned = !borrow;
        }
        else if (!_gradOwned)
        {
            var sum = Uninitialized(_shape);
            TensorPrimitives.Add(Grad._data, g._data, sum._data);
            Grad = sum;
            _gradOwned = true;
        }
        else
            TensorPrimitives.Add(Grad._data, g._data, Grad._data);
    }

    /// <summary>Clears the gradient (optimisers call this between steps).</summary>
    public void ZeroGrad() { Grad = null; _gradOwned = false; }

    /// <summary>
    /// Back-propagates from this tensor. Without <paramref name="gradient"/> the tensor must hold one element
    /// (a loss) and its gradient is 1. Gradients accumulate into leaves; non-leaf gradients are released
    /// afterwards unless <see cref="RetainGrad"/> was called. The graph is released as it is walked (each op's
    /// saved tensors become collectable right after its chain rule ran), so a second backward through the same
    /// graph throws; recompute the forward pass instead.
    /// </summary>
    public void Backward(Tensor? gradient = null) => Backward(gradient, null);

    /// <summary>
    /// <see cref="Backward(Tensor?)"/>, calling <paramref name="leafReady"/> with each leaf (a tensor without a node,
    /// e.g. a parameter) as soon as its gradient is final: every node that uses a leaf comes after it in the
    /// topological order, so when the reverse walk reaches the leaf, all of them have run. Data-parallel training
    /// starts reducing a bucket of gradients there while the rest of backward runs. The callback runs on the calling
    /// thread and must not touch other tensors' gradients.
    /// </summary>
    public void Backward(Tensor? gradient, Action<Tensor>? leafReady)
    {
        if (!RequiresGrad) throw new InvalidOperationException("Backward() on a tensor that does not require a gradient (no parameter took part, or it was computed under NoGrad).");
        if (gradient == null)
        {
            if (Size != 1) throw new InvalidOperationException($"Backward() without a gradient needs a one-element tensor, got shape {Shapes.Format(_shape)}.");
            gradient = Full(1f, _shape);
        }
        var order = TopologicalOrder();
        AccumulateGrad(gradient);
        var recycler = BackwardRecycler.For(this);
        using (GradMode.NoGrad())
        {
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var t = order[i];
                // Drop the list's reference: once its node has run, nothing here needs t (its saved activations
                // can be collected while the rest of the backward pass runs).
                order[i] = null!;
                if (t.Node == null && t.Grad != null) leafReady?.Invoke(t);
                if (t.Node == null || t.Grad == null)
                {
                    recycler?.After(t, []);
                    continue;
                }
                var inputs = t.Node.Inputs;
                if (OpProfiler.Enabled)
                {
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    t.Node.Backward(t.Grad);
                    OpProfiler.Backward(t.Node.Op, System.Diagnostics.Stopwatch.GetTimestamp() - t0);
                }
                else t.Node.Backward(t.Grad);
                t.Node.Release();
                if (!t._retainGrad) t.ZeroGrad();
                recycler?.After(t, inputs);
            }
        }
    }

    /// <summary>Tensors reachable from this one that need gradients, each after all of its inputs (iterative DFS).</summary>
    private List<Tensor> TopologicalOrder()
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
        stack.Push((this, 0));
        visited.Add(this);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.Node?.Inputs;
            if (inputs != null && next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var child = inputs[next];
                if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(t);
        }
        return order;
    }
}
