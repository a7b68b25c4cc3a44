using Cedm.Diffusion;
using Cedm.Tensors;

namespace Cedm.Tests.Diffusion;

public class EdmLossTests
{
    /// <summary>D(x; σ) = a·x + b·σ (no network): the loss has a closed form to compare against.</summary>
    private sealed class AffineDenoiser(float a, float b) : IDenoiser
    {
        public List<float> Sigmas { get; } = [];

        public int LabelDim => 0;

        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
        {
            Sigmas.AddRange(sigma.Data);
            int n = x.Dim(0);
            return x * a + sigma.Reshape(n, 1, 1, 1) * b;
        }
    }

    [Fact]
    public void ReductionIsSumOverPixelsAndMeanOverBatch()
    {
        var rng = new Rng(11);
        int n = 3, c = 2, h = 4, w = 5;
        var y = Tensor.Rand(rng, [n, c, h, w], -1f, 1f);
        var noise = Tensor.Randn(rng, [n, c, h, w]);
        float[] sig = [0.1f, 1f, 7f];
        var net = new AffineDenoiser(0.8f, 0.05f);
        float loss = new EdmLoss().Compute(net, y, null, Tensor.FromArray(sig, n), noise).Item();
        double expected = 0;
        for (int i = 0; i < n; i++)
        {
            double lam = (sig[i] * (double)sig[i] + 0.25) / (sig[i] * 0.5 * sig[i] * 0.5);
            for (int j = 0; j < c * h * w; j++)
            {
                int k = i * c * h * w + j;
                double x = y.Data[k] + sig[i] * (double)noise.Data[k];
                double d = 0.8 * x + 0.05 * sig[i] - y.Data[k];
                expected += lam * d * d;
            }
        }
        expected /= n;  // sum over C·H·W, mean over N
        Assert.Equal(expected, loss, expected * 2e-6);
        Assert.Equal(sig, net.Sigmas);
    }

    [Fact]
    public void DuplicatingTheBatchKeepsTheLossAndDoublingPixelsDoublesIt()
    {
        var rng = new Rng(12);
        var y = Tensor.Rand(rng, [2, 1, 3, 3], -1f, 1f);
        var noise = Tensor.Randn(rng, [2, 1, 3, 3]);
        var sigma = Tensor.FromArray([0.4f, 2f], 2);
        var net = new AffineDenoiser(0.5f, 0f);
        var loss = new EdmLoss();
        float l1 = loss.Compute(net, y, null, sigma, noise).Item();
        float l2 = loss.Compute(net, Tensor.Concat(0, y, y), null, Tensor.Concat(0, sigma, sigma), Tensor.Concat(0, noise, noise)).Item();
        float l3 = loss.Compute(net, Tensor.Concat(1, y, y), null, sigma, Tensor.Concat(1, noise, noise)).Item();
        Assert.Equal(l1, l2, l1 * 1e-6f);
        Assert.Equal(2 * l1, l3, l1 * 1e-5f);
    }

    [Fact]
    public void SigmaIsLogNormalWithTheEdmParametersAndSeeded()
    {
        var net = new AffineDenoiser(1f, 0f);
        var y = Tensor.Zeros(4000, 1, 1, 1);
        var a = new EdmLoss().Compute(net, y, null, new Rng(3)).Item();
        var logs = net.Sigmas.Select(s => Math.Log(s)).ToArray();
        double mean = logs.Average(), std = Math.Sqrt(logs.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -1.2 - 0.08, -1.2 + 0.08);  // 4 standard errors
        Assert.InRange(std, 1.2 * 0.95, 1.2 * 1.05);
        Assert.Equal(a, new EdmLoss().Compute(net, y, null, new Rng(3)).Item());
        Assert.NotEqual(a, new EdmLoss().Compute(net, y, null, new Rng(4)).Item());
    }

    [Fact]
    public void GradientsFlowToTheDenoisersParameters()
    {
        var precond = new EdmPrecond(TestNets.Micro(), new Rng(1));
        var y = Tensor.Rand(new Rng(2), [2, 1, 16, 16], -1f, 1f);
        var loss = new EdmLoss().Compute(precond, y, null, new Rng(5));
        loss.Backward();
        var named = precond.NamedParameters().ToDictionary(p => p.Path, p => p.Tensor);
        Assert.NotNull(named["model.dec.16x16_aux_conv.weight"].Grad);
        Assert.Contains(named["model.dec.16x16_aux_conv.weight"].Grad!.Data, v => v != 0f);
        Assert.NotNull(named["model.map_layer0.weight"].Grad);
    }
}
