using Cedm.Clustering.Temi;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Clustering.Temi;

/// <summary>TemiLoss against tools/fixtures/make_temi_fixtures.py (PyTorch, float64, spec §4.4 written with pow).</summary>
public sealed class TemiLossTests
{
    [Theory]
    [InlineData("b06")]
    [InlineData("b1")]
    public void ForwardPriorAndGradientMatchThePyTorchFixture(string name)
    {
        var f = FixtureFile.Load("temi/temi_loss.bin");
        var student = f[$"{name}.student"].RequireGrad();
        var teacher = f[$"{name}.teacher"];
        var loss = new TemiLoss(student.Dim(0), student.Dim(2), beta: f[$"{name}.beta"].Data[0]);
        f[$"{name}.prior_in"].Data.CopyTo(loss.Prior.Data, 0);

        var result = loss.Forward(student, teacher);
        TensorAssert.Close(f[$"{name}.prior_out"], loss.Prior, 1e-6, 1e-5, "updated prior (step 1)");
        TensorAssert.Close(f[$"{name}.per_head"].Data, result.PerHead, 1e-5, 1e-5, "per-head losses");
        result.Loss.Item().Should().BeApproximately(result.PerHead.Average(), 1e-6f, "total = mean over heads (step 4)");

        result.Loss.Backward();
        TensorAssert.Close(f[$"{name}.grad_student"], student.Grad!, 1e-5, 1e-4, "d loss / d student logits");
    }

    [Fact]
    public void PriorUpdatesAreCumulativeAcrossCalls()
    {
        var f = FixtureFile.Load("temi/temi_loss.bin");
        var loss = new TemiLoss(3, 7);
        loss.Forward(f["b06.student"], f["b06.teacher"]);
        var first = loss.Prior.ToArray();
        loss.Forward(f["b06.student"], f["b06.teacher"]);
        // Same batch twice: q2 = 0.9·q1 + 0.1·mean, q1 = 0.9/K + 0.1·mean, so q2 − q1 = 0.9·(q1 − 1/K).
        for (int i = 0; i < first.Length; i++)
            (loss.Prior.Data[i] - first[i]).Should().BeApproximately(0.9f * (first[i] - 1f / 7), 1e-6f);
    }

    [Theory]
    [InlineData(0.6, 7)]
    [InlineData(1.0, 130)]
    public void TheFusedPairLossMatchesTheCompositeOfTensorOps(double beta, int k)
    {
        const int heads = 3, rows = 10;
        var logits = Tensor.Randn(new Rng(11), [heads, rows, k], 0f, 0.2f);   // ÷ τ = 0.1: softmax far from one-hot
        var teacher = Tensor.Randn(new Rng(12), [heads, rows, k], 0f, 0.2f);
        (float[] PerHead, float[] Prior, float[] Grad) Run(bool composite)
        {
            var student = new Tensor(logits.ToArray(), heads, rows, k).RequireGrad();
            var loss = new TemiLoss(heads, k, beta) { UseComposite = composite };
            var result = loss.Forward(student, teacher);
            result.Loss.Backward();
            return (result.PerHead, loss.Prior.ToArray(), student.Grad!.ToArray());
        }
        var fused = Run(false);
        var reference = Run(true);
        TensorAssert.Close(reference.PerHead, fused.PerHead, 1e-5, 1e-5, "per-head losses");
        TensorAssert.Close(reference.Prior, fused.Prior, 1e-7, 1e-6, "prior");
        TensorAssert.Close(reference.Grad, fused.Grad, 1e-6, 1e-4, "d loss / d student logits");
        fused.Grad.Should().Contain(v => Math.Abs(v) > 1e-4f, "the gradient is not trivially zero");
    }
}
