using Cedm.Tensors.Kernels;

namespace Cedm.Tests.Tensors;

/// <summary>The vectorised sigmoid against the double-precision definition over the whole float range that matters.</summary>
public class FastSigmoidTests
{
    [Fact]
    public void MatchesTheDoublePrecisionSigmoid()
    {
        // −100 … 100 in steps of 1/64 (12 801 values: every lane position, the clamps at ±88, and a scalar tail).
        var x = Enumerable.Range(-6400, 12801).Select(i => i / 64f).ToArray();
        var y = new float[x.Length];
        FastSigmoid.Compute(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = 1.0 / (1.0 + Math.Exp(-(double)x[i]));
            // 4e-7 relative: a few float32 ulps (the polynomial is good to ~1e-7, the division rounds once);
            // 1e-37 absolute for the values below −88, which flush towards 0.
            Assert.True(Math.Abs(y[i] - expected) <= 4e-7 * expected + 1e-37, $"sigmoid({x[i]}) = {y[i]}, expected {expected}");
        }
        Assert.Equal(0.5f, y[6400]);
    }

    [Fact]
    public void WorksInPlaceAndOnShortSpans()
    {
        float[] v = [-3f, -0.5f, 0f, 2f, 7f];
        FastSigmoid.Compute(v, v);
        Assert.True(Math.Abs(v[0] - 1.0 / (1.0 + Math.Exp(3.0))) < 1e-7);
        Assert.Equal(0.5f, v[2]);
        var big = Enumerable.Range(0, 40).Select(i => i * 0.25f - 5f).ToArray();
        var expected = big.Select(t => (float)(1.0 / (1.0 + Math.Exp(-t)))).ToArray();
        FastSigmoid.Compute(big, big);
        for (int i = 0; i < big.Length; i++) Assert.True(Math.Abs(expected[i] - big[i]) <= 1e-6f * expected[i], $"at {i}: {big[i]} vs {expected[i]}");
    }
}
