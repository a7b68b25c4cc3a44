using Cedm.Tensors;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Tensors;

/// <summary>
/// Inception-v3's factorised convolutions (spec §6.1): 1×7 / 7×1 / 1×3 kernels with padding (0,3) / (3,0) / (0,1)
/// through Conv2d's separate vertical/horizontal padding, against PyTorch.
/// </summary>
public class AsymmetricConvTests
{
    [Theory]
    [InlineData("conv2d_asym_1x7_p03")]
    [InlineData("conv2d_asym_7x1_p30")]
    [InlineData("conv2d_asym_1x3_p01_s2")]
    public void MatchesPyTorchFixture(string name)
    {
        var f = FixtureFile.Load($"ops/{name}.bin");
        var x = f["x"].RequireGrad();
        var w = f["weight"].RequireGrad();
        var b = f["bias"].RequireGrad();
        int s = (int)f["stride"].Item();
        var pad = f["padding"].Data;
        var y = Tensor.Conv2d(x, w, b, s, s, (int)pad[0], (int)pad[1]);
        TensorAssert.Close(f["y"], y, 1e-5, 1e-5, $"{name} y");
        y.Backward(f["gy"]);
        TensorAssert.Close(f["gx"], x.Grad!, 1e-5, 1e-5, $"{name} gx");
        TensorAssert.Close(f["gweight"], w.Grad!, 1e-5, 1e-5, $"{name} gweight");
        TensorAssert.Close(f["gbias"], b.Grad!, 1e-5, 1e-5, $"{name} gbias");
    }
}
