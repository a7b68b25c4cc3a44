using Cedm.Clustering.TreeVae;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Clustering.TreeVae;

/// <summary>TreeVAE's ELBO terms (related-seeds A.3) on a 2-leaf tree, against values worked out by hand.</summary>
public sealed class TreeElboTests
{
    private static Tensor T(params float[] v) => new(v, v.Length);

    private static double Kl(double q, double p) => q * Math.Log((q + 1e-7) / (p + 1e-7)) + (1 - q) * Math.Log((1 - q + 1e-7) / (1 - p + 1e-7));

    [Fact]
    public void TwoLeafTermsMatchHandValues()
    {
        // Two images; q(left|x) = 0.8, 0.3; p(left|z0) = 0.6, 0.5.
        var tree = TreeShape.TwoLeaves();
        var q = T(0.8f, 0.3f).RequireGrad();
        var terms = TreeElbo.Compute(tree,
            reconstruction: [null, T(10, 20), T(30, 40)],
            rootKl: T(1, 2),
            nodeKl: [null, T(0.5f, 0.1f), T(0.2f, 2000f)],
            qRouter: [q, null, null],
            pRouter: [T(0.6f, 0.5f), null, null]);

        terms.Reach[1]!.Data.Should().Equal(0.8f, 0.3f);
        terms.Reach[2]!.Data[0].Should().BeApproximately(0.2f, 1e-6f);
        // L_rec: (0.8·10 + 0.2·30 + 0.3·20 + 0.7·40)/2 = (14 + 34)/2
        terms.Reconstruction.Data[0].Should().BeApproximately(24f, 1e-4f);
        terms.KlRoot.Data[0].Should().BeApproximately(1.5f, 1e-6f);
        // KL_nodes: image 0: 0.8·0.5 + 0.2·0.2 = 0.44; image 1: 0.3·0.1 + 0.7·clamp(2000) = 700.03
        terms.KlNodes.Data[0].Should().BeApproximately((0.44f + 700.03f) / 2, 1e-3f);
        double decisions = (Kl(0.8, 0.6) + Kl(0.3, 0.5)) / 2;
        terms.KlDecisions.Data[0].Should().BeApproximately((float)decisions, 1e-5f);
        float alpha = 0.25f;
        terms.Loss(alpha).Data[0].Should().BeApproximately((float)(24 + alpha * (1.5 + 350.235 + decisions)), 1e-2f);

        // ∂L_rec/∂q for image 0 is (10 − 30)/2: moving mass to the better leaf lowers the loss.
        terms.Reconstruction.Backward();
        q.Grad!.Data[0].Should().BeApproximately(-10f, 1e-4f);
    }

    [Fact]
    public void PassThroughNodesForwardReachAndLeavesSumToOne()
    {
        // root → (1, 2); 1 → (3) pass-through; 3 → (4, 5). Leaves 2, 4, 5.
        var tree = new TreeShape([[1, 2], [3], [], [4, 5], [], []]);
        tree.Leaves.Should().Equal(2, 4, 5);
        var zero = T(0, 0);
        var terms = TreeElbo.Compute(tree, [null, null, zero, null, zero, zero], zero,
            [null, zero, zero, zero, zero, zero], [T(0.6f, 0.1f), null, null, T(0.5f, 0.9f), null, null], [T(0.5f, 0.5f), null, null, T(0.5f, 0.5f), null, null]);
        terms.Reach[3]!.Data.Should().Equal(terms.Reach[1]!.Data);
        for (int i = 0; i < 2; i++)
            tree.Leaves.Sum(l => terms.Reach[l]!.Data[i]).Should().BeApproximately(1f, 1e-6f);
        terms.Reach[4]!.Data[1].Should().BeApproximately(0.1f * 0.9f, 1e-6f);
    }

    [Fact]
    public void AnnealingFollowsTheSchedule()
    {
        TreeElbo.AnnealingWeight(0, 0f, 0.001f).Should().BeApproximately(0.001f, 1e-7f);
        TreeElbo.AnnealingWeight(9, 0.01f, 0.01f).Should().BeApproximately(0.11f, 1e-6f);
        TreeElbo.AnnealingWeight(5000, 0f, 0.001f).Should().Be(1f);
        TreeElbo.FinetuneDecay(200).Should().BeApproximately(0.01f, 1e-7f);
        TreeElbo.FinetuneDecay(11).Should().BeApproximately(0.1f, 1e-7f);
        FluentActions.Invoking(() => new TreeShape([[1, 2], [2], []])).Should().Throw<ArgumentException>().WithMessage("*two parents*");
    }
}
