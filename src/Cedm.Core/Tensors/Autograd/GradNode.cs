namespace Cedm.Tensors.Autograd;

/// <summary>
/// One recorded op on the tape: the inputs it read and its local chain rule. <see cref="Backward"/> receives
/// the gradient of the op's output and adds each input's share into that input (define-by-run, as micrograd).
/// </summary>
internal sealed class GradNode(string op, Tensor[] inputs, Action<Tensor> backward)
{
    public string Op { get; } = op;

    public Tensor[] Inputs { get; } = inputs;

    public Action<Tensor> Backward { get; } = backward;
}
