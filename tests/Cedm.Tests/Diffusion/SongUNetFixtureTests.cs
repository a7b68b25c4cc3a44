using Cedm.Diffusion;
using Cedm.Diffusion.Networks;
using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Diffusion;

/// <summary>
/// Forward and backward of a small SongUNet/EDMPrecond/EDMLoss against the PyTorch reference written from the spec
/// (tools/fixtures/songunet_ref.py, fixture by make_songunet_fixtures.py; reference in float64 on the same float32
/// weights). Tolerance: atol 1e-5·max|expected|, rtol 1e-4 (float32 error through ~20 layers; the float64 reference is exact).
/// </summary>
public class SongUNetFixtureTests
{
    private static readonly SongUNetOptions FixtureOptions = TestNets.Micro(labelDim: 3, augmentDim: 9);

    private static EdmPrecond LoadNet()
    {
        var net = new EdmPrecond(FixtureOptions, new Rng(0));
        net.LoadSafetensors(Path.Combine(AppContext.BaseDirectory, "Fixtures", "diffusion", "songunet_weights.safetensors"));
        return net.Eval();
    }

    private static double Scale(Tensor t) => Math.Max(t.Max(), -t.Min());

    [Fact]
    public void ForwardAndBackwardMatchPyTorch()
    {
        var fx = FixtureFile.Load("diffusion/songunet.bin");
        var net = LoadNet();
        var x = fx["x"].RequireGrad();
        var d = net.Denoise(x, fx["sigma"], fx["labels"], fx["augment_labels"], null);
        TensorAssert.Close(fx["d"], d, 1e-5 * Scale(fx["d"]), 1e-4, "EDMPrecond output");
        (d * fx["gy"]).Sum().Backward();
        TensorAssert.Close(fx["gx"], x.Grad!, 1e-5 * Scale(fx["gx"]), 1e-4, "grad x");
        var named = net.NamedParameters().ToDictionary(p => p.Path, p => p.Tensor);
        int checkedParams = 0;
        foreach (var name in fx.Names.Where(n => n.StartsWith("g:", StringComparison.Ordinal)))
        {
            var expected = fx[name];
            TensorAssert.Close(expected, named[name[2..]].Grad!, 1e-5 * Scale(expected), 1e-4, name);
            checkedParams++;
        }
        Assert.Equal(13, checkedParams);
    }

    [Fact]
    public void LossAndItsGradientsMatchPyTorch()
    {
        var fx = FixtureFile.Load("diffusion/songunet.bin");
        var net = LoadNet();
        var loss = new EdmLoss().Compute(net, fx["images"], new Conditioning(fx["labels"]), fx["loss_sigma"], fx["loss_noise"], fx["augment_labels"]);
        float expected = fx["loss"].Item();
        Assert.Equal(expected, loss.Item(), expected * 1e-4);
        loss.Backward();
        var named = net.NamedParameters().ToDictionary(p => p.Path, p => p.Tensor);
        foreach (var name in fx.Names.Where(n => n.StartsWith("lg:", StringComparison.Ordinal)))
            TensorAssert.Close(fx[name], named[name[3..]].Grad!, 1e-5 * Scale(fx[name]), 1e-4, name);
    }
}
