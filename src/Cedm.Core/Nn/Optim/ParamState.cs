using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>
/// An optimiser's per-parameter state: its own step count (a parameter whose gradient is absent in a step is
/// skipped and does not count it, as in PyTorch) and named buffers shaped like the parameter.
/// </summary>
public sealed class ParamState
{
    public long Step { get; set; }

    public OrderedDictionary<string, Tensor> Buffers { get; } = new(StringComparer.Ordinal);

    /// <summary>The named buffer, created as zeros shaped like <paramref name="like"/> on first use.</summary>
    public float[] Buffer(string name, Tensor like)
    {
        if (!Buffers.TryGetValue(name, out var b)) Buffers.Add(name, b = Tensor.ZerosLike(like));
        return b.Data;
    }
}
