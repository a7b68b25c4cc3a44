using Cedm.Diffusion;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.Sampling;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.FeatureConditioning;

/// <summary>The noisy-image auxiliary classifier, its NGMG/CE training and classifier guidance (docs/feature-conditioning.md).</summary>
public sealed class AuxiliaryClassifierTests
{
    /// <summary>Three well-separated 2-D components, one per pattern of <see cref="TrainingTestData.Patterns"/>.</summary>
    private static readonly FeatureMixture Three = new(2, 0, [1 / 3.0, 1 / 3.0, 1 / 3.0], [3, 0, -3, 0, 0, 3], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [], [0, 1, 2]);

    private sealed class Zero : IDenoiser
    {
        public int LabelDim => 3;
        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null) => Tensor.ZerosLike(x);
    }

    /// <summary>∇_x Σ_i L(c(x_i, σ_i), y_i) through the classifier against central differences (float32 net, h = 1e-2).</summary>
    [Theory]
    [InlineData("ngmg")]
    [InlineData("ce")]
    public void GuidanceGradientMatchesFiniteDifferences(string kind)
    {
        var objective = kind == "ngmg" ? AuxiliaryObjective.Ngmg(Three) : AuxiliaryObjective.CrossEntropy(3);
        var net = new NoisyClassifier(1, objective.Outputs, new Rng(4), width: 4);
        // Larger weights than at initialisation, so the logits (and the checked gradient) are well above float32 noise.
        foreach (var p in net.Parameters()) for (int i = 0; i < p.Size; i++) p.Data[i] *= 2.5f;
        var guided = new ClassifierGuidedDenoiser(new Zero(), net, objective, 1.0);
        var xData = Tensor.Randn(new Rng(5), [2, 1, 8, 8]).Data.ToArray();
        var sigma = new Tensor([0.3f, 1.5f], 2);
        int[] targets = [0, 2];
        var g = guided.Gradient(new Tensor(xData.ToArray(), 2, 1, 8, 8), sigma, targets);
        double L()
        {
            using var _ = GradMode.NoGrad();
            return objective.Loss(net.Forward(new Tensor(xData.ToArray(), 2, 1, 8, 8), sigma), targets).Value * 2;
        }
        var checks = new[] { 0, 9, 27, 50, 64, 77, 100, 127 }.Select(i =>
        {
            float keep = xData[i];
            xData[i] = keep + 1e-2f; double up = L();
            xData[i] = keep - 1e-2f; double down = L();
            xData[i] = keep;
            return (Auto: (double)g[i], Fd: (up - down) / 2e-2);
        }).ToArray();
        double scale = checks.Max(c => Math.Abs(c.Fd));
        scale.Should().BeGreaterThan(1e-4);
        foreach (var (auto, fd) in checks) auto.Should().BeApproximately(fd, 0.03 * scale + 0.03 * Math.Abs(fd));
    }

    [Fact]
    public void GuidedDenoiserSubtractsSigmaSquaredTimesTheGradientForTheLabelledTarget()
    {
        var objective = AuxiliaryObjective.Ngmg(Three);
        var net = new NoisyClassifier(1, 2, new Rng(4), width: 4);
        var guided = new ClassifierGuidedDenoiser(new Zero(), net, objective, 0.5);
        var x = Tensor.Randn(new Rng(5), [1, 1, 8, 8]);
        var sigma = Tensor.Full(2f, 1);
        var condition = new Conditioning(Cedm.Nn.OneHot.FromIds([2], 3));
        guided.Targets(condition, 1).Should().Equal(2);
        guided.Targets(null, 1).Should().Equal([0], "the fallback");
        var d = guided.Denoise(x, sigma, condition);
        var g = guided.Gradient(x, sigma, [2]);
        for (int j = 0; j < 64; j++) d.Data[j].Should().BeApproximately(-0.5f * 4 * g[j], 1e-6f);
        var withMixture = new ClassifierGuidedDenoiser(new Zero(), net, objective, 0.5, new MixtureObjective(Three));
        withMixture.Targets(new Conditioning(Features: new Tensor([0.1f, 2.8f, -2.9f, 0.2f], 2, 2)), 2).Should().Equal(2, 1);
    }

    /// <summary>Both objectives learn the three 8×8 patterns from noisy images; accuracy at σ = 0.2 on the training set.</summary>
    [Theory]
    [InlineData("ngmg")]
    [InlineData("ce")]
    public void TrainingLearnsThePatterns(string kind)
    {
        var data = TrainingTestData.Patterns(8);
        var targets = data.Labels!.Select(l => (int)(l / 10)).ToArray();
        var objective = kind == "ngmg" ? AuxiliaryObjective.Ngmg(Three) : AuxiliaryObjective.CrossEntropy(3);
        var (net, losses) = AuxiliaryTraining.Train(data, targets, objective, new AuxiliaryTrainingOptions { Steps = 60, Batch = 16, Lr = 3e-3, Width = 8, Seed = 1 });
        losses.TakeLast(10).Average().Should().BeLessThan(losses.Take(10).Average());
        AuxiliaryTraining.Accuracy(net, objective, data, targets, [0.2])[0].Should().BeGreaterThan(0.9);
    }

    /// <summary>
    /// The held-out measurement: accuracy from the classifier's own predictions, and each image's gradient norm equal
    /// to that of the image alone (the classifier treats images independently), split by the overlap flags.
    /// </summary>
    [Fact]
    public void HeldOutEvaluationMeasuresAccuracyAndPerImageGradientNorms()
    {
        var data = TrainingTestData.Patterns(8);
        var targets = data.Labels!.Select(l => (int)(l / 10)).ToArray();
        var objective = AuxiliaryObjective.Ngmg(Three);
        var (net, _) = AuxiliaryTraining.Train(data, targets, objective, new AuxiliaryTrainingOptions { Steps = 60, Batch = 16, Lr = 3e-3, Width = 8, Seed = 1 });
        var overlap = Enumerable.Range(0, data.Count).Select(i => i % 3 == 0).ToArray();
        var e = AuxiliaryEvaluation.Run(net, objective, data, targets, overlap, [0.2, 1.0], seed: 3);
        e.Count.Should().Be(data.Count);
        e.Overlap.Should().Be(overlap.Count(o => o));
        e.Accuracy[0].Should().BeGreaterThan(0.9);

        // The same noise as the first σ's pass (one batch, drawn in order from the seed), then one image at a time.
        data.Count.Should().BeLessThanOrEqualTo(64);
        int size = data.ImageSize;
        var noisy = new float[data.Count * size];
        data.ToTrainingRange(0, data.Count, noisy);
        var rng = new Rng(3);
        for (int j = 0; j < noisy.Length; j++) noisy[j] += (float)(0.2 * rng.NextNormal());
        int correct = 0;
        var norms = Enumerable.Range(0, data.Count).Select(i =>
        {
            var (g, o) = AuxiliaryEvaluation.InputGradient(net, objective, new Tensor(noisy.AsSpan(i * size, size).ToArray(), 1, 1, data.Height, data.Width), Tensor.Full(0.2f, 1), [targets[i]]);
            if (objective.Predict(o) == targets[i]) correct++;
            return Math.Sqrt(g.Sum(v => (double)v * v));
        }).ToArray();
        norms.Max().Should().BeGreaterThan(1e-3);
        e.Accuracy[0].Should().Be((double)correct / data.Count);
        double tol = 1e-4 * norms.Average();
        e.GradNorm[0].Should().BeApproximately(norms.Average(), tol);
        e.GradNormOverlap[0].Should().BeApproximately(norms.Where((_, i) => overlap[i]).Average(), tol);
        e.GradNormSeparated[0].Should().BeApproximately(norms.Where((_, i) => !overlap[i]).Average(), tol);

        var none = AuxiliaryEvaluation.Run(net, objective, data, targets, null, [0.2], seed: 3);
        none.Overlap.Should().Be(0);
        double.IsNaN(none.GradNormOverlap[0]).Should().BeTrue("no image in the overlap set");
        none.GradNormSeparated[0].Should().Be(none.GradNorm[0]);
        none.Accuracy[0].Should().Be(e.Accuracy[0]);
        none.GradNorm[0].Should().Be(e.GradNorm[0]);
    }
}
