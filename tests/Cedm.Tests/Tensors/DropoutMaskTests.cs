using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Tests.Tensors;

/// <summary>The counter-based dropout mask: vector and parallel paths equal the scalar definition, rate, backward.</summary>
public class DropoutMaskTests
{
    [Fact]
    public void EveryElementFollowsTheScalarDefinition()
    {
        // 1003 elements: an odd length, so the parallel chunks and the 16-lane body have unaligned heads and tails.
        const ulong key = 0x1234_5678_9ABC_DEF0UL;
        uint threshold = DropoutMask.Threshold(0.3f);
        var x = Enumerable.Range(1, 1003).Select(i => (float)i).ToArray();
        var y = new float[x.Length];
        DropoutMask.Apply(key, threshold, 2f, x, y);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(DropoutMask.Keep(key, threshold, i) ? 2f * x[i] : 0f, y[i]);
    }

    [Fact]
    public void DropRateMatchesPAndKeysDiffer()
    {
        var x = Tensor.Ones(200_000);
        var rng = new Rng(11);
        var y1 = x.Dropout(0.1f, rng, training: true);
        var y2 = x.Dropout(0.1f, rng, training: true);
        double dropped = y1.Data.Count(v => v == 0f) / 200_000.0;
        Assert.InRange(dropped, 0.097, 0.103); // 0.1 ± 4.5 standard errors
        Assert.All(y1.Data, v => Assert.True(v == 0f || Math.Abs(v - 1f / 0.9f) < 1e-6f));
        Assert.NotEqual(y1.Data, y2.Data); // each call draws a fresh key
        Assert.Equal(y1.Data, Tensor.Ones(200_000).Dropout(0.1f, new Rng(11), training: true).Data); // same seed, same mask
    }

    [Fact]
    public void BackwardUsesTheForwardMask()
    {
        var x = Tensor.Randn(new Rng(3), [4, 8, 8]).RequireGrad();
        var y = x.Dropout(0.5f, new Rng(5), training: true);
        y.Sum().Backward();
        for (int i = 0; i < x.Size; i++)
            Assert.Equal(y.Data[i] == 0f ? 0f : 2f, x.Grad!.Data[i]);
    }
}
