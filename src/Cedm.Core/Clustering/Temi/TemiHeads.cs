using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Clustering.Temi;

/// <summary>
/// The H independent heads of one TEMI network (spec §4.3); the student and the teacher are two instances.
/// <see cref="Forward"/> stacks the heads' logits into [H, rows, K], the layout <see cref="TemiLoss"/> takes.
/// The heads run one after another. Fusing the H first layers into one Linear(D → H·hidden) over concatenated weights
/// is exact but was slower on a quiet 2-core machine (trainprofile temi/step-b1024: 126–137 ms a step against 92–106 ms):
/// the big GEMM gained little, and splitting its output and gradient per head cost more than it saved.
/// </summary>
public sealed class TemiHeads : Module
{
    private readonly TemiHead[] _heads;

    public TemiHeads(int inputDim, int k, int heads, int hidden, int bottleneck, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        _heads = new TemiHead[heads];
        for (int h = 0; h < heads; h++)
            _heads[h] = RegisterModule(h.ToString(System.Globalization.CultureInfo.InvariantCulture), new TemiHead(inputDim, k, hidden, bottleneck, rng));
    }

    public int Count => _heads.Length;

    public int K => _heads[0].K;

    public TemiHead this[int h] => _heads[h];

    /// <summary>Logits of every head, [H, rows, K].</summary>
    public Tensor Forward(Tensor x)
    {
        var parts = new Tensor[_heads.Length];
        for (int h = 0; h < _heads.Length; h++)
        {
            var logits = _heads[h].Forward(x);
            parts[h] = logits.Reshape(1, logits.Dim(0), logits.Dim(1));
        }
        return parts.Length == 1 ? parts[0] : Tensor.Concat(0, parts);
    }

    /// <summary>Drops the gradients of every head's last layer (g and v), so the optimiser skips them (spec §4.5, epoch 0).</summary>
    public void CancelLastLayerGradients()
    {
        foreach (var head in _heads)
        {
            head.Last.G.ZeroGrad();
            head.Last.V.ZeroGrad();
        }
    }
}
