using Cedm.Tensors;

namespace Cedm.Diffusion.Training;

/// <summary>
/// The order images are visited in (spec §1.4: a per-epoch random permutation stands in for EDM's infinite
/// sampler). The k-th image ever drawn is perm_e[k mod N] with e = k / N and perm_e from a generator seeded by
/// (seed, e), so the order is a pure function of the image count: resuming needs no extra state.
/// </summary>
public sealed class DataOrder(int count, long seed)
{
    private long _epoch = -1;
    private int[] _perm = [];

    public int Count { get; } = count > 0 ? count : throw new ArgumentOutOfRangeException(nameof(count), count, "Need at least one image.");

    /// <summary>The dataset index of the image drawn as number <paramref name="position"/> (0-based over the whole run).</summary>
    public int At(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        long epoch = position / Count;
        if (epoch != _epoch)
        {
            _perm = new Rng(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)epoch * 0xD1B54A32D192ED03UL ^ 0x5DEECE66DUL)).Permutation(Count);
            _epoch = epoch;
        }
        return _perm[position % Count];
    }
}
