using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>One-hot label matrices, the form EDM feeds its class embedding (spec §2.3).</summary>
public static class OneHot
{
    /// <summary>[N, K] with row i equal to <paramref name="value"/> at column ids[i] and 0 elsewhere.</summary>
    public static Tensor FromIds(ReadOnlySpan<int> ids, int numClasses, float value = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        var t = Tensor.Zeros(ids.Length, numClasses);
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)numClasses)
                throw new ArgumentOutOfRangeException(nameof(ids), $"Label {ids[i]} at index {i} is outside [0, {numClasses}).");
            t.Data[i * numClasses + ids[i]] = value;
        }
        return t;
    }
}
