using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Tensors;

/// <summary>SongUNet's up/down resampling filters (spec §2.1) and Pad2d: values, gradients, PyTorch fixtures.</summary>
public class ResamplingTests
{
    /// <summary>These ops only copy or average four values: float32 vs PyTorch float64 differ by rounding alone.</summary>
    private const float FixtureTolerance = 1e-6f;

    [Fact]
    public void UpsampleRepeatsEachPixelAsA2x2Block()
    {
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 1, 1, 2, 3);
        var y = x.Upsample2xNearest();
        Assert.Equal(new[] { 1, 1, 4, 6 }, y.ShapeArray());
        Assert.Equal(new float[] { 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6 }, y.Data);
    }

    [Fact]
    public void AvgPoolAveragesEach2x2Block()
    {
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 1, 1, 4, 4);
        var y = x.AvgPool2x();
        Assert.Equal(new[] { 1, 1, 2, 2 }, y.ShapeArray());
        Assert.Equal(new float[] { 3.5f, 5.5f, 11.5f, 13.5f }, y.Data);
    }

    [Fact]
    public void AvgPoolUndoesUpsample()
    {
        var x = Tensor.Randn(new Rng(3), [2, 3, 5, 4]);
        ConvolutionTests.AssertClose(x.Data, x.Upsample2xNearest().AvgPool2x().Data, 1e-6f, "avgpool(upsample(x))");
    }

    [Fact]
    public void PadPlacesTheImageInsideAConstantBorder()
    {
        var y = Tensor.FromArray([1, 2, 3, 4], 1, 1, 2, 2).Pad2d(1, 0, 2, 1, value: -1f);
        Assert.Equal(new[] { 1, 1, 3, 5 }, y.ShapeArray());
        Assert.Equal(new float[] { -1, -1, -1, -1, -1, -1, -1, 1, 2, -1, -1, -1, 3, 4, -1 }, y.Data);
    }

    [Fact]
    public void GradChecks()
    {
        Check(t => t[0].Upsample2xNearest(), Tensor.Randn(new Rng(1), [2, 2, 3, 4]).RequireGrad());
        Check(t => t[0].AvgPool2x(), Tensor.Randn(new Rng(2), [2, 2, 4, 6]).RequireGrad());
        Check(t => t[0].AvgPool2x(), Tensor.Randn(new Rng(3), [1, 2, 5, 7]).RequireGrad());
        Check(t => t[0].Pad2d(1, 2, 0, 3), Tensor.Randn(new Rng(4), [2, 2, 3, 4]).RequireGrad());
    }

    private static void Check(Func<Tensor[], Tensor> f, Tensor x)
    {
        var r = GradCheck.Check(f, [x]);
        Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void ShapeErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3, 4).Upsample2xNearest());
        Assert.Contains("[2, 3, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 1, 1, 4).AvgPool2x());
        Assert.Contains("[1, 1, 1, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 1, 4, 4).Pad2d(-1, 0, 0, 0));
        Assert.Contains("[1, 1, 4, 4]", e.Message);
    }

    [Theory]
    [InlineData("upsample2x_nearest")]
    [InlineData("avgpool2x")]
    [InlineData("avgpool2x_odd")]
    [InlineData("pad2d_28_to_32")]
    public void MatchesPyTorchFixture(string name)
    {
        var f = FixtureFile.Load($"ops/{name}.bin");
        var x = f["x"].RequireGrad();
        var y = name switch
        {
            "upsample2x_nearest" => x.Upsample2xNearest(),
            "pad2d_28_to_32" => x.Pad2d(2, 2, 2, 2),
            _ => x.AvgPool2x(),
        };
        Assert.Equal(f["y"].ShapeArray(), y.ShapeArray());
        ConvolutionTests.AssertClose(f["y"].Data, y.Data, FixtureTolerance, $"{name} y");
        y.Backward(f["gy"]);
        ConvolutionTests.AssertClose(f["gx"].Data, x.Grad!.Data, FixtureTolerance, $"{name} gx");
    }
}
