using Cedm.Tensors;

namespace Cedm.Tests.Tensors;

public class RngTests
{
    [Fact]
    public void SameSeedSameStreamDifferentSeedDifferentStream()
    {
        var a = Tensor.Randn(new Rng(42), [100]).Data;
        var b = Tensor.Randn(new Rng(42), [100]).Data;
        var c = Tensor.Randn(new Rng(43), [100]).Data;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void NormalAndUniformMomentsMatchWithinSamplingError()
    {
        const int n = 200_000;
        var z = Tensor.Randn(new Rng(1), [n]).Data;
        double mean = z.Average(v => (double)v), var = z.Average(v => (double)v * v) - mean * mean;
        // Standard errors: 1/sqrt(n) ≈ 0.0022 for the mean, sqrt(2/n) ≈ 0.0032 for the variance; allow ~5σ.
        Assert.InRange(mean, -0.011, 0.011);
        Assert.InRange(var, 0.984, 1.016);
        var u = Tensor.Rand(new Rng(2), [n], -1f, 3f).Data;
        Assert.InRange(u.Min(), -1f, -0.99f);
        Assert.True(u.Max() < 3f);
        Assert.InRange(u.Average(v => (double)v), 0.99, 1.01);
    }

    [Fact]
    public void NextIntIsUnbiasedAndPermutationIsAPermutation()
    {
        var rng = new Rng(3);
        var counts = new int[3];
        for (int i = 0; i < 30_000; i++) counts[rng.NextInt(3)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_700, 10_300));
        var p = rng.Permutation(1000);
        Assert.Equal(Enumerable.Range(0, 1000), p.Order());
    }
}
