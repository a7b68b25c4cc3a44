using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using FluentAssertions;

namespace Cedm.Tests.Tensors;

/// <summary>TreeVAE's ops (related-seeds A.1–A.5): values against hand formulas, gradients against finite differences.</summary>
public sealed class ProbabilisticOpsTests
{
    private static Tensor Normal(ulong seed, params int[] shape) => Tensor.Randn(new Rng(seed), shape).RequireGrad();

    private static Tensor Uniform(ulong seed, float low, float high, params int[] shape) => Tensor.Rand(new Rng(seed), shape, low, high).RequireGrad();

    private static void ShouldPass(GradCheck.Result r) => r.Passed.Should().BeTrue(r.ToString());

    [Fact]
    public void LeakyReluValuesAndGradient()
    {
        var x = new Tensor([-2f, -0.5f, 0f, 1.5f], 4);
        x.LeakyRelu(0.3f).Data.Should().Equal(-0.6f, -0.15f, 0f, 1.5f);
        // Points away from the kink so the central difference sees one side.
        var y = Normal(1, 3, 5);
        for (int i = 0; i < y.Size; i++) if (MathF.Abs(y.Data[i]) < 0.05f) y.Data[i] = 0.3f;
        ShouldPass(GradCheck.Check(t => t[0].LeakyRelu(0.3f), [y], step: 1e-2f));
        new LeakyReLU(0.3f).Forward(x).Data.Should().Equal(x.LeakyRelu(0.3f).Data);
    }

    [Fact]
    public void BatchNormNormalisesPerChannelAndTracksRunningStatistics()
    {
        var x = new Tensor([1f, 2f, 3f, 10f, 20f, 30f], 3, 2);  // channel 0: 1, 3, 20; channel 1: 2, 10, 30
        var (y, mean, variance) = Tensor.BatchNorm(x, null, null, eps: 0f);
        mean.Should().Equal(8f, 14f);
        variance[0].Should().BeApproximately(((49 + 25 + 144) / 3f), 1e-3f);
        for (int c = 0; c < 2; c++)
        {
            var col = Enumerable.Range(0, 3).Select(i => (double)y.Data[i * 2 + c]).ToArray();
            col.Average().Should().BeApproximately(0, 1e-6);
            col.Select(v => v * v).Average().Should().BeApproximately(1, 1e-5);
        }
        var bn = new BatchNorm(2);
        bn.Forward(x);
        bn.RunningMean.Data.Should().Equal(0.8f, 1.4f);
        bn.RunningVar.Data[0].Should().BeApproximately(0.9f + 0.1f * (49 + 25 + 144) / 2f, 1e-3f, "unbiased variance with momentum 0.1");
        bn.SetTraining(false);
        var eval = bn.Forward(new Tensor([0.8f, 1.4f], 1, 2));
        eval.Data.Should().Equal(0f, 0f);

        var x4 = Normal(2, 3, 2, 2, 3);
        var gamma = Normal(3, 2);
        var beta = Normal(4, 2);
        ShouldPass(GradCheck.Check(t => Tensor.BatchNorm(t[0], t[1], t[2]).Y, [x4, gamma, beta], step: 1e-2f));
    }

    [Fact]
    public void GaussianKlFromVarianceMatchesTheLogVarianceForm()
    {
        var muQ = new Tensor([0.5f, -1f], 2);
        var varQ = new Tensor([0.25f, 2f], 2);
        var muP = new Tensor([0f, 1f], 2);
        var varP = new Tensor([1f, 0.5f], 2);
        var kl = Tensor.GaussianKlFromVariance(muQ, varQ, muP, varP).Data;
        // ½(log(1/0.25) + (0.25 + 0.25)/1 − 1) and ½(log(0.5/2) + (2 + 4)/0.5 − 1)
        kl[0].Should().BeApproximately(0.5f * (MathF.Log(4) + 0.5f - 1), 1e-6f);
        kl[1].Should().BeApproximately(0.5f * (MathF.Log(0.25f) + 12 - 1), 1e-5f);
        var other = Tensor.GaussianKl(muQ, varQ.Log(), muP, varP.Log()).Data;
        kl.Should().BeEquivalentTo(other, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-5f)).WhenTypeIs<float>());
        ShouldPass(GradCheck.Check(t => Tensor.GaussianKlFromVariance(t[0], t[1], t[2], t[3]),
            [Normal(5, 4, 3), Uniform(6, 0.3f, 2f, 4, 3), Normal(7, 4, 3), Uniform(8, 0.3f, 2f, 4, 3)], step: 1e-3f));
    }

    [Fact]
    public void BernoulliKlIsZeroAtEqualityAndMatchesTheFormula()
    {
        var q = new Tensor([0.2f, 0.7f, 0.5f], 3);
        var p = new Tensor([0.2f, 0.4f, 0.9f], 3);
        var kl = Tensor.BernoulliKl(q, p).Data;
        kl[0].Should().BeApproximately(0, 1e-6f);
        kl[1].Should().BeApproximately((float)(0.7 * Math.Log(0.7 / 0.4) + 0.3 * Math.Log(0.3 / 0.6)), 1e-5f);
        kl[2].Should().BeApproximately((float)(0.5 * Math.Log(0.5 / 0.9) + 0.5 * Math.Log(0.5 / 0.1)), 1e-5f);
        Tensor.BernoulliKl(new Tensor([1f], 1), new Tensor([0f], 1)).Data[0].Should().BeApproximately((float)Math.Log(1 / 1e-7), 0.01f, "ε keeps it finite");
        ShouldPass(GradCheck.Check(t => Tensor.BernoulliKl(t[0], t[1]), [Uniform(9, 0.1f, 0.9f, 5, 2), Uniform(10, 0.1f, 0.9f, 5, 2)], step: 1e-3f));
    }

    [Fact]
    public void PrecisionMergeWeighsByPrecision()
    {
        var (mu, variance) = Tensor.PrecisionMerge(new Tensor([2f], 1), new Tensor([1f], 1), new Tensor([-1f], 1), new Tensor([3f], 1), eps: 0f);
        variance.Data[0].Should().BeApproximately(0.75f, 1e-6f, "1/(1 + 1/3)");
        mu.Data[0].Should().BeApproximately(0.75f * (2f - 1f / 3f), 1e-6f);
        ShouldPass(GradCheck.Check(t => { var (m, v) = Tensor.PrecisionMerge(t[0], t[1], t[2], t[3]); return m + v; },
            [Normal(11, 6), Uniform(12, 0.3f, 2f, 6), Normal(13, 6), Uniform(14, 0.3f, 2f, 6)], step: 1e-3f));
    }

    [Fact]
    public void BinaryCrossEntropySumsPerImage()
    {
        var p = new Tensor([0.9f, 0.2f, 0.5f, 0.5f], 2, 2);
        var target = new Tensor([1f, 0f, 1f, 0.5f], 2, 2);
        var bce = Tensor.BinaryCrossEntropySum(p, target).Data;
        bce[0].Should().BeApproximately((float)(-Math.Log(0.9) - Math.Log(0.8)), 1e-5f);
        bce[1].Should().BeApproximately((float)(2 * Math.Log(2)), 1e-5f);
        ShouldPass(GradCheck.Check(t => Tensor.BinaryCrossEntropySum(t[0], t[1]), [Uniform(15, 0.1f, 0.9f, 3, 4), Uniform(16, 0f, 1f, 3, 4)], step: 1e-3f));
    }

    [Theory]
    [InlineData(new[] { 7, 5 })]
    [InlineData(new[] { 3, 4, 2, 3 })]
    public void FusedBatchNormMatchesTheCompositeReferenceInValueAndGradient(int[] shape)
    {
        Tensor[] Inputs() => [Normal(20, shape), Normal(21, shape[1]), Normal(22, shape[1])];
        var upstream = Tensor.Randn(new Rng(23), shape);
        var fused = Inputs();
        var reference = Inputs();
        var (y, mean, variance) = Tensor.BatchNorm(fused[0], fused[1], fused[2]);
        var (yr, meanR, varianceR) = Tensor.BatchNormReference(reference[0], reference[1], reference[2]);
        for (int i = 0; i < y.Size; i++) y.Data[i].Should().BeApproximately(yr.Data[i], 1e-4f);
        for (int c = 0; c < shape[1]; c++)
        {
            mean[c].Should().BeApproximately(meanR[c], 1e-5f);
            variance[c].Should().BeApproximately(varianceR[c], 1e-4f);
        }
        (y * upstream).Sum().Backward();
        (yr * upstream).Sum().Backward();
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < fused[k].Size; i++) fused[k].Grad!.Data[i].Should().BeApproximately(reference[k].Grad!.Data[i], 1e-3f, $"input {k}, element {i}");
    }

    [Fact]
    public void BinaryCrossEntropyWithLogitsMatchesTheProbabilityFormAndStaysExactFarOut()
    {
        var logits = Normal(30, 3, 8);
        var target = Uniform(31, 0f, 1f, 3, 8);
        var fused = Tensor.BinaryCrossEntropyWithLogitsSum(logits, target).Data;
        var reference = Tensor.BinaryCrossEntropySum(logits.Sigmoid(), target).Data;
        for (int i = 0; i < 3; i++) fused[i].Should().BeApproximately(reference[i], 1e-3f);
        ShouldPass(GradCheck.Check(t => Tensor.BinaryCrossEntropyWithLogitsSum(t[0], t[1]), [Normal(32, 2, 5), Uniform(33, 0f, 1f, 2, 5)], step: 1e-3f));
        // A logit of 40 against target 0 costs 40 nats (the probability form clamps at −log ε ≈ 16.1) and has gradient 1.
        var far = new Tensor([40f, -40f], 1, 2).RequireGrad();
        var loss = Tensor.BinaryCrossEntropyWithLogitsSum(far, new Tensor([0f, 0f], 1, 2));
        loss.Data[0].Should().BeApproximately(40f, 1e-4f);
        loss.Backward();
        far.Grad!.Data[0].Should().BeApproximately(1f, 1e-6f);
        far.Grad.Data[1].Should().BeApproximately(0f, 1e-6f);
    }
}
