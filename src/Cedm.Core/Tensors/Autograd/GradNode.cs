namespace Cedm.Tensors.Autograd;

/// <summary>
/// One recorded op on the tape: the inputs it read and its local chain rule. <see cref="Backward"/> receives
/// the gradient of the op's output and adds each input's share into that input (define-by-run, as micrograd).
/// After its backward has run, <see cref="Tensor.Backward(Tensor?)"/> releases the node (as PyTorch frees a graph after
/// backward): the closure holds the activations saved for the chain rule, and dropping it lets the collector
/// reclaim them while the rest of the backward pass runs instead of after it.
/// </summary>
internal sealed class GradNode(string op, Tensor[] inputs, Action<Tensor> backward)
{
    private Action<Tensor>? _backward = backward;

    public string Op { get; } = op;

    public Tensor[] Inputs { get; private set; } = inputs;

    public bool Released => _backward == null;

    public void Backward(Tensor gradient)
    {
        var b = _backward ?? throw new InvalidOperationException(
            $"Backward through '{Op}' a second time: the graph was released after the first backward; recompute the forward pass.");
        b(gradient);
    }

    /// <summary>Drops the closure (and the tensors it saved) and the input references.</summary>
    public void Release()
    {
        _backward = null;
        Inputs = [];
    }
}
