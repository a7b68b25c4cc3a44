using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// Inverted dropout with probability <see cref="P"/>, active only in training mode (SongUNet's blocks, spec §2.2).
/// The mask comes from the <see cref="Rng"/> given at construction, so a seeded run is reproducible.
/// </summary>
public sealed class Dropout : Layer
{
    private readonly Rng _rng;

    public float P { get; }

    public Dropout(float p, Rng rng)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        P = p;
        _rng = rng ?? throw new ArgumentNullException(nameof(rng));
    }

    public override Tensor Forward(Tensor x) => P == 0f || !IsTraining ? x : x.Dropout(P, _rng, training: true);
}
