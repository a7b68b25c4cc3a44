using Cedm.Clustering.TreeVae;
using Cedm.Nn;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Clustering.TreeVae;

/// <summary>TreeVAE's growing and pruning decisions (related-seeds A.4) and how a model carries its parameters across them.</summary>
public sealed class TreeGrowthTests
{
    /// <summary>P(leaf|x) rows for a tree with leaves in order; each row given as the probability vector.</summary>
    private static float[] Rows(params float[][] rows) => rows.SelectMany(r => r).ToArray();

    [Fact]
    public void SplitsTheLeafWithTheMostAssignedSamples()
    {
        var shape = TreeShape.TwoLeaves();
        // 3 samples lean to leaf 2, 1 to leaf 1: leaf 2 is split.
        var probs = Rows([0.9f, 0.1f], [0.2f, 0.8f], [0.3f, 0.7f], [0.4f, 0.6f]);
        var c = TreeGrowth.ChooseLeaf(shape, probs, 4, maxLeaves: 4, maxDepth: 3, minSamples: 1, minFraction: 0.01);
        c.Leaf.Should().Be(2);
        c.Effective.Should().Be(2);
        c.Assigned.Should().Equal(1, 3);      // threshold min(1/2, 0.5) = 0.5
    }

    [Fact]
    public void StopsWhenEnoughLeavesHoldMassOrNoneCanGrow()
    {
        var shape = TreeShape.TwoLeaves();
        var probs = Rows([0.9f, 0.1f], [0.2f, 0.8f]);
        TreeGrowth.ChooseLeaf(shape, probs, 2, maxLeaves: 2, maxDepth: 3, minSamples: 1, minFraction: 0.01).Leaf.Should().Be(-1);
        // Leaves at the maximum depth cannot grow.
        TreeGrowth.ChooseLeaf(shape, probs, 2, maxLeaves: 4, maxDepth: 1, minSamples: 1, minFraction: 0.01).Reason.Should().Contain("depth 1");
        // Leaves with fewer samples than one batch are skipped.
        TreeGrowth.ChooseLeaf(shape, probs, 2, maxLeaves: 4, maxDepth: 3, minSamples: 2, minFraction: 0.01).Leaf.Should().Be(-1);
        // A leaf with almost no mass is not effective: with mass (1.98, 0.02) on 2 samples and 1 % → 2 effective; at 5 % → 1.
        var skewed = Rows([0.99f, 0.01f], [0.99f, 0.01f]);
        TreeGrowth.ChooseLeaf(shape, skewed, 2, maxLeaves: 2, maxDepth: 3, minSamples: 1, minFraction: 0.05).Effective.Should().Be(1);
    }

    [Fact]
    public void SplitAppendsTwoChildrenAndKeepsOldNodeIds()
    {
        var edit = TreeGrowth.Split(TreeShape.TwoLeaves(), 1);
        edit.Shape.Children.Should().BeEquivalentTo(new int[][] { [1, 2], [3, 4], [], [], [] }, o => o.WithStrictOrdering());
        edit.OldNodeOf.Should().Equal(0, 1, 2, -1, -1);
        FluentActions.Invoking(() => TreeGrowth.Split(edit.Shape, 1)).Should().Throw<ArgumentException>().WithMessage("*not a leaf*");
    }

    [Fact]
    public void RemovingALeafLeavesAPassThroughAndRenumbersBreadthFirst()
    {
        // 0 → (1, 2); 1 → (3, 4); 2 → (5, 6). Remove leaf 4: node 1 passes through to 3.
        var shape = new TreeShape([[1, 2], [3, 4], [5, 6], [], [], [], []]);
        var edit = TreeGrowth.RemoveLeaf(shape, 4);
        edit.Shape.Children.Should().BeEquivalentTo(new int[][] { [1, 2], [3], [4, 5], [], [], [] }, o => o.WithStrictOrdering());
        edit.OldNodeOf.Should().Equal(0, 1, 2, 3, 5, 6);
        edit.Shape.IsRouter(1).Should().BeFalse();
        // Removing the pass-through's only leaf removes the pass-through too.
        var again = TreeGrowth.RemoveLeaf(edit.Shape, 3);
        again.Shape.Children.Should().BeEquivalentTo(new int[][] { [1], [2, 3], [], [] }, o => o.WithStrictOrdering());
        again.OldNodeOf.Should().Equal(0, 2, 4, 5);
    }

    [Fact]
    public void PrunesTheSmallestLeafOnlyBelowTheShare()
    {
        var shape = new TreeShape([[1, 2], [3, 4], [], [], []]);      // leaves 2, 3, 4
        TreeGrowth.SmallestLeafBelow(shape, [500, 495, 5], 0.01).Should().Be(4);
        TreeGrowth.SmallestLeafBelow(shape, [500, 490, 10], 0.01).Should().Be(-1);
    }

    [Fact]
    public void GrownModelKeepsEveryCarriedParameterAndDropsTheSplitLeafsDecoder()
    {
        var o = TreeVaeFitTests.Small(4);
        var model = new TreeVaeModel(TreeShape.TwoLeaves(), o, 6, new Rng(1));
        var edit = TreeGrowth.Split(model.Shape, 2);
        var grown = model.WithShape(edit.Shape, edit.OldNodeOf, new Rng(2));
        var before = model.StateDict();
        var after = grown.StateDict();
        foreach (var (key, value) in after)
            if (before.TryGetValue(key, out var old)) value.Data.Should().Equal(old.Data, key);
        before.Keys.Should().Contain(k => k.StartsWith("node2.decoder."));
        after.Keys.Should().NotContain(k => k.StartsWith("node2.decoder."));
        after.Keys.Should().Contain("node2.q_router.net.0.weight").And.Contain("node4.decoder.0.weight");

        // A pruned model renames the surviving nodes' parameters.
        var pruned = grown.WithShape(TreeGrowth.RemoveLeaf(grown.Shape, 1).Shape, TreeGrowth.RemoveLeaf(grown.Shape, 1).OldNodeOf, new Rng(3));
        pruned.StateDict()["node1.transform.head.mu.weight"].Data.Should().Equal(after["node2.transform.head.mu.weight"].Data);
    }

    [Fact]
    public void LeafProbabilitiesSumToOneAndMatchTheElboReach()
    {
        var o = TreeVaeFitTests.Small(4);
        var edit = TreeGrowth.Split(TreeShape.TwoLeaves(), 1);
        var model = new TreeVaeModel(edit.Shape, o, 5, new Rng(4)).Eval();
        var x = Tensor.Randn(new Rng(5), [7, 5]);
        var probs = model.LeafProbabilities(x);
        for (int i = 0; i < 7; i++) probs.AsSpan(i * 3, 3).ToArray().Sum().Should().BeApproximately(1f, 1e-5f);
        var reach = model.Forward(x, new Rng(6)).Terms.Reach;
        var leaves = model.Leaves;
        for (int l = 0; l < leaves.Length; l++)
            for (int i = 0; i < 7; i++) probs[i * 3 + l].Should().BeApproximately(reach[leaves[l]]!.Data[i], 1e-5f);
    }

    [Fact]
    public void ASubtreePhaseTrainsOnlyTheNewNodes()
    {
        var o = TreeVaeFitTests.Small(4);
        var model = new TreeVaeModel(TreeShape.TwoLeaves(), o, 5, new Rng(1));
        var edit = TreeGrowth.Split(model.Shape, 1);
        var grown = model.WithShape(edit.Shape, edit.OldNodeOf, new Rng(2));
        var active = new bool[5];
        active[1] = active[3] = active[4] = true;
        var output = grown.Forward(Tensor.Randn(new Rng(7), [6, 5]), new Rng(8), active);
        output.Decodes[2].Should().BeNull("the other leaf is not needed");
        output.Decodes[3].Should().NotBeNull();
        output.Terms.KlRoot.Data[0].Should().Be(0f);
        output.Terms.Loss(1f).Backward();
        grown.Node(2).Parameters().Should().AllSatisfy(p => (p.Grad == null || p.Grad.Data.All(g => g == 0)).Should().BeTrue());
        grown.Node(3).Parameters().Should().Contain(p => p.Grad != null && p.Grad.Data.Any(g => g != 0));
    }
}
