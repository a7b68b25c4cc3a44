using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Tests.Nn;

public class ConvNormLayerTests
{
    [Fact]
    public void Conv2dWrapsTheOpWithSamePaddingByDefault()
    {
        var conv = new Conv2d(3, 5, 3, new Rng(1), init: WeightInit.Song);
        Assert.Equal(["weight", "bias"], conv.NamedParameters().Select(p => p.Path));
        Assert.Equal([5, 3, 3, 3], conv.Weight.ShapeArray());
        Assert.Equal(1, conv.Padding);
        Assert.All(conv.Bias!.Data, v => Assert.Equal(0f, v));
        var x = Tensor.Randn(new Rng(2), [2, 3, 6, 6]);
        var y = conv.Forward(x);
        Assert.Equal([2, 5, 6, 6], y.ShapeArray());
        Assert.Equal(Tensor.Conv2d(x, conv.Weight, conv.Bias, 1, 1).Data, y.Data);
        Assert.Equal([2, 5, 3, 3], new Conv2d(3, 5, 3, new Rng(1), stride: 2).Forward(x).ShapeArray());
        Assert.Contains("[2, 4, 6, 6]", Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(2, 4, 6, 6))).Message);
    }

    [Fact]
    public void Conv2dTorchDefaultBoundUsesInTimesKSquared()
    {
        var conv = new Conv2d(16, 32, 3, new Rng(1));
        float bound = 1f / MathF.Sqrt(16 * 9);
        Assert.True(conv.Weight.Max() <= bound && conv.Weight.Min() >= -bound && conv.Weight.Max() > 0.95f * bound);
    }

    [Theory]
    [InlineData(64, 16)]
    [InlineData(128, 32)]
    [InlineData(256, 32)]
    [InlineData(12, 3)]
    public void SongUNetGroupNormGroups(int channels, int groups)
    {
        var gn = GroupNorm.ForSongUNet(channels);
        Assert.Equal(groups, gn.Groups);
        Assert.Equal(1e-6f, gn.Eps);
        Assert.All(gn.Weight!.Data, v => Assert.Equal(1f, v));
        Assert.All(gn.Bias!.Data, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void GroupNormModuleMatchesTheOpAndGradChecks()
    {
        var gn = new GroupNorm(8, 2, fusedSilu: true);
        var rng = new Rng(3);
        rng.FillNormal(gn.Weight!.Data, 1f, 0.3f);
        rng.FillNormal(gn.Bias!.Data, 0f, 0.3f);
        var x = Tensor.Randn(new Rng(4), [2, 8, 3, 3]).RequireGrad();
        Assert.Equal(Tensor.GroupNorm(x, 2, gn.Weight, gn.Bias, 1e-5f, silu: true).Data, gn.Forward(x).Data);
        var r = GradCheck.Check(inp => gn.Forward(inp[0]), [x, gn.Weight, gn.Bias]);
        Assert.True(r.Passed, r.ToString());
        Assert.Empty(new GroupNorm(8, 4, affine: false).Parameters());
        Assert.Throws<ArgumentException>(() => new GroupNorm(8, 3));
    }

    [Fact]
    public void LayerNormNormalisesTheLastAxis()
    {
        var ln = new LayerNorm(6);
        var x = Tensor.Randn(new Rng(5), [4, 6], mean: 3f, std: 2f);
        var y = ln.Forward(x);
        for (int r = 0; r < 4; r++)
        {
            var row = Enumerable.Range(0, 6).Select(i => (double)y[r, i]).ToArray();
            Assert.Equal(0.0, row.Average(), 5);
            Assert.Equal(1.0, row.Average(v => v * v), 3);
        }
        Assert.Equal(["weight", "bias"], ln.NamedParameters().Select(p => p.Path));
        Assert.Throws<ArgumentException>(() => ln.Forward(Tensor.Zeros(4, 5)));
    }
}
