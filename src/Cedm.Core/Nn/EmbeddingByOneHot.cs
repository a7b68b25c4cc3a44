using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// A class embedding computed as a linear layer on one-hot (or soft) label rows, EDM's <c>map_label</c>
/// (spec §2.3: <c>map_label(onehot·√K)</c>, Linear K→dim with bias). Taking label *vectors* rather than ids
/// lets classifier-free guidance pass all-zero rows and lets soft labels through. <see cref="InputScale"/>
/// multiplies the rows first (√K for EDM).
/// </summary>
public sealed class EmbeddingByOneHot : Layer
{
    private readonly Linear _map;

    public int NumClasses { get; }

    public float InputScale { get; }

    public EmbeddingByOneHot(int numClasses, int dim, Rng rng, bool bias = true, WeightInit? init = null, float inputScale = 1f)
    {
        NumClasses = numClasses;
        InputScale = inputScale;
        _map = RegisterModule("map", new Linear(numClasses, dim, rng, bias, init));
    }

    public Linear Map => _map;

    /// <summary><paramref name="labels"/>: [N, K] one-hot or soft rows.</summary>
    public override Tensor Forward(Tensor labels)
    {
        if (labels.Rank != 2 || labels.Dim(1) != NumClasses)
            throw new ArgumentException($"EmbeddingByOneHot expects labels [N, {NumClasses}], got {Shapes.Format(labels.Shape)}.");
        return _map.Forward(InputScale == 1f ? labels : labels * InputScale);
    }

    /// <summary>Embeds integer class ids via <see cref="OneHot.FromIds"/>.</summary>
    public Tensor Forward(ReadOnlySpan<int> ids) => Forward(OneHot.FromIds(ids, NumClasses));
}
