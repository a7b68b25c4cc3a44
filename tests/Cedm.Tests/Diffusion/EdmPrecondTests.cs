using Cedm.Diffusion;
using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Tests.Diffusion;

public class EdmPrecondTests
{
    // Spec §6.6: (σ, c_skip, c_out, c_in, c_noise, λ) at σ_d = 0.5.
    [Theory]
    [InlineData(0.002, 0.999984, 0.00199998, 1.999984, -1.553652, 250004)]
    [InlineData(1.0, 0.2, 0.4472136, 0.8944272, 0.0, 5.0)]
    [InlineData(80.0, 3.90610e-5, 0.4999902, 0.01249976, 1.095507, 4.000156)]
    public void CoefficientsMatchTheSpecsWorkedValues(double sigma, double cSkip, double cOut, double cIn, double cNoise, double lambda)
    {
        static void Near(double expected, double actual, string what) =>
            Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Max(1, Math.Abs(expected)) + 5e-7 * Math.Abs(expected) * 10,
                $"{what}: expected {expected}, got {actual}");
        Near(cSkip, EdmPrecond.CSkip(sigma), "c_skip");
        Near(cOut, EdmPrecond.COut(sigma), "c_out");
        Near(cIn, EdmPrecond.CIn(sigma), "c_in");
        Near(cNoise, EdmPrecond.CNoise(sigma), "c_noise");
        Assert.True(Math.Abs(lambda - EdmLoss.Weight(sigma)) <= 1e-6 * lambda, $"λ: expected {lambda}, got {EdmLoss.Weight(sigma)}");
        // λ·c_out² = 1 (spec §1.3).
        Assert.Equal(1.0, EdmLoss.Weight(sigma) * EdmPrecond.COut(sigma) * EdmPrecond.COut(sigma), 12);
    }

    [Fact]
    public void DenoiseCombinesSkipAndNetworkOutput()
    {
        var precond = new EdmPrecond(TestNets.Micro(labelDim: 2), new Rng(1));
        precond.Eval();
        Assert.Equal(2, precond.LabelDim);
        Assert.Equal("model.map_label.weight", precond.NamedParameters().First().Path);
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        float[] sigmas = [0.5f, 3f];
        var labels = Tensor.FromArray([1f, 0f, 0f, 1f], 2, 2);
        using var _ = GradMode.NoGrad();
        var d = precond.Denoise(x, Tensor.FromArray(sigmas, 2), new Conditioning(labels));
        for (int i = 0; i < 2; i++)
        {
            var xi = x.Slice(0, i, 1);
            double s = sigmas[i];
            var f = precond.Model.Forward(xi * (float)EdmPrecond.CIn(s), Tensor.FromArray([(float)EdmPrecond.CNoise(s)], 1),
                labels.Slice(0, i, 1), null, null);
            var expected = xi * (float)EdmPrecond.CSkip(s) + f * (float)EdmPrecond.COut(s);
            TestUtilities.TensorAssert.Close(expected, d.Slice(0, i, 1), 1e-5, 1e-5, $"sample {i}");
        }
        // A shared σ given as one value equals the per-sample form.
        var shared = precond.Denoise(x, Tensor.FromArray([3f], 1), new Conditioning(labels));
        var perSample = precond.Denoise(x, Tensor.FromArray([3f, 3f], 2), new Conditioning(labels));
        Assert.Equal(perSample.Data, shared.Data);
    }
}
