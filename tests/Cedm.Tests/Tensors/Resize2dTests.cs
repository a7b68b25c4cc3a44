using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Tensors;

/// <summary>
/// Resize2d (feature-extractor preprocessing, spec §4.1/§6.1/§6.2, and ViT positional-embedding interpolation):
/// PyTorch F.interpolate fixtures (plain and antialiased, size and scale-factor calls), invariants and gradients.
/// Pillow's uint8 resize (rounded after each axis) is <see cref="Cedm.Imaging.PilResize"/>.
/// </summary>
public class Resize2dTests
{
    private const double FixtureTolerance = 2e-6;

    [Theory]
    [InlineData("resize_bilinear_up")]
    [InlineData("resize_bilinear_down")]
    [InlineData("resize_bicubic_up")]
    [InlineData("resize_bicubic_scale_factor")]
    [InlineData("resize_bicubic_aa_up")]
    [InlineData("resize_bicubic_aa_down")]
    [InlineData("resize_bilinear_aa_down")]
    public void MatchesPyTorchInterpolate(string name)
    {
        var f = FixtureFile.Load($"ops/{name}.bin");
        var x = f["x"].RequireGrad();
        var size = f["out"].Data;
        var scale = f["scale"].Data;
        var filter = f["bicubic"].Item() != 0 ? ResizeFilter.Bicubic : ResizeFilter.Bilinear;
        var y = x.Resize2d((int)size[0], (int)size[1], filter, f["antialias"].Item() != 0, scale[0], scale[1]);
        TensorAssert.Close(f["y"], y, FixtureTolerance, FixtureTolerance, $"{name} y");
        y.Backward(f["gy"]);
        TensorAssert.Close(f["gx"], x.Grad!, FixtureTolerance, FixtureTolerance, $"{name} gx");
    }

    [Theory]
    [InlineData(ResizeFilter.Bilinear, false)]
    [InlineData(ResizeFilter.Bicubic, false)]
    [InlineData(ResizeFilter.Bilinear, true)]
    [InlineData(ResizeFilter.Bicubic, true)]
    public void SameSizeIsIdentityAndConstantsStayConstant(ResizeFilter filter, bool antialias)
    {
        var x = Tensor.Randn(new Rng(5), [2, 3, 7, 6]);
        TensorAssert.Close(x, x.Resize2d(7, 6, filter, antialias), 1e-6, 1e-6, "identity");
        var c = Tensor.Full(0.3f, 1, 2, 5, 9);
        foreach (var (h, w) in new[] { (11, 4), (3, 17), (299, 299) })
            Assert.All(c.Resize2d(h, w, filter, antialias).Data, v => Assert.Equal(0.3f, v, 5));
    }

    [Fact]
    public void GradChecks()
    {
        foreach (var filter in new[] { ResizeFilter.Bilinear, ResizeFilter.Bicubic })
            foreach (bool aa in new[] { false, true })
            {
                var r1 = GradCheck.Check(t => t[0].Resize2d(7, 5, filter, aa), [Tensor.Randn(new Rng(1), [1, 2, 4, 6]).RequireGrad()]);
                Assert.True(r1.Passed, r1.ToString());
            }
    }

    [Fact]
    public void RejectsBadArguments()
    {
        var x = Tensor.Zeros(1, 1, 4, 4);
        Assert.Throws<ArgumentException>(() => x.Resize2d(0, 3, ResizeFilter.Bilinear));
        Assert.Throws<ArgumentException>(() => x.Resize2d(3, 3, ResizeFilter.Bilinear, scaleH: -1));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(4, 4).Resize2d(3, 3, ResizeFilter.Bicubic));
    }
}
