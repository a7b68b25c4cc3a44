using Cedm.Clustering.Temi;
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
}
