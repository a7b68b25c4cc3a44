using Cedm.Clustering.Temi;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using FluentAssertions;

namespace Cedm.Tests.Clustering.Temi;

public sealed class TemiHeadTests
{
    [Fact]
    public void ParameterCountAndInitFollowTheSpec()
    {
        var head = new TemiHead(768, 10, 512, 256, new Rng(0));
        // Spec §4.3: 525 056 + 257·K parameters per head.
        head.ParameterCount().Should().Be(525_056 + 257 * 10);
        head.Mlp0.Weight.Data.Select(Math.Abs).Max().Should().BeLessThanOrEqualTo(2f);
        StdDev(head.Mlp0.Weight.Data).Should().BeApproximately(0.02, 0.001);
        head.Mlp0.Bias!.Data.Should().OnlyContain(v => v == 0f);
        head.Last.G.Data.Should().OnlyContain(v => v == 1f);
        head.Last.V.Data.Select(Math.Abs).Max().Should().BeLessThanOrEqualTo(1f / 16f);
    }

    private static double StdDev(float[] d)
    {
        double m = d.Average(v => (double)v);
        return Math.Sqrt(d.Average(v => (v - m) * (v - m)));
    }

    [Fact]
    public void GradientsOfEveryParameterMatchFiniteDifferences()
    {
        var rng = new Rng(3);
        var head = new TemiHead(6, 5, 8, 4, rng);
        // Larger weights than the 0.02 init so the finite differences are well above float32 noise.
        foreach (var p in head.Parameters()) rng.FillNormal(p.Data, 0f, 0.5f);
        var x = Tensor.Randn(rng, [7, 6]).RequireGrad();
        var inputs = new[] { x }.Concat(head.Parameters()).ToArray();
        var r = GradCheck.Check(_ => head.Forward(x), inputs, step: 1e-2f, atol: 3e-3, rtol: 3e-2);
        r.Passed.Should().BeTrue(r.ToString());
    }

    [Fact]
    public void StackedHeadsEqualEachHeadAlone()
    {
        var heads = new TemiHeads(6, 5, 3, 8, 4, new Rng(1));
        var x = Tensor.Randn(new Rng(2), [4, 6]);
        var all = heads.Forward(x);
        all.ShapeArray().Should().Equal(3, 4, 5);
        for (int h = 0; h < 3; h++)
            heads[h].Forward(x).Data.Should().Equal(all.Data.AsSpan(h * 20, 20).ToArray());
    }
}
