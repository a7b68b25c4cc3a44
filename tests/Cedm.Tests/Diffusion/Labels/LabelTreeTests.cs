using Cedm.Clustering;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Training;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.Labels;

/// <summary>Path conditioning (docs/hierarchy.md): the tree above a Ward cut, path rows, and the trainer's rows.</summary>
public sealed class LabelTreeTests
{
    /// <summary>Four points; merges (0,1) → 4, (2,3) → 5, (4,5) → 6. Cut at 3: clusters {0,1}, {2}, {3}.</summary>
    private static ClusterTree FourPoints() => new(4, [new TreeMerge(0, 1, 1, 2), new TreeMerge(2, 3, 2, 2), new TreeMerge(4, 5, 3, 4)]);

    [Fact]
    public void CutParentsIsTheTreeAboveTheCut()
    {
        var t = FourPoints();
        t.Cut(3).Should().Equal(0, 0, 1, 2);
        // Nodes 0..2 are the clusters, node 3 the merge (2,3), node 4 the root (4,5).
        t.CutParents(3).Should().Equal(4, 3, 3, 4, -1);
        t.CutParents(1).Should().Equal(-1);
        t.CutParents(4).Should().Equal(4, 4, 5, 5, 6, 6, -1);
    }

    [Fact]
    public void BreadthFirstNumberingPathsAndFrontiers()
    {
        var (tree, newId) = LabelTree.FromParents(FourPoints().CutParents(3), [0, 1, 2, -1, -1]);
        newId.Should().Equal([1, 3, 4, 2, 0], "root first, then its children in old order, then theirs");
        tree.Parent.Should().Equal(-1, 0, 0, 2, 2);
        tree.LeafOfCluster.Should().Equal(1, 3, 4);
        tree.Nodes.Should().Be(5);
        tree.MaxDepth.Should().Be(2);
        tree.Path(4).Should().Equal(0, 2, 4);
        tree.Frontier(0).Should().Equal(0);
        tree.Frontier(1).Should().Equal(1, 2);
        tree.Frontier(2).Should().Equal([1, 3, 4], "the shallow leaf stands for its own level");
        tree.IsAncestor(2, 3).Should().BeTrue();
        tree.IsAncestor(1, 3).Should().BeFalse();
        tree.IsAncestor(3, 3).Should().BeTrue();

        var row = new float[5];
        tree.WriteRow(4, row);
        float third = 1 / MathF.Sqrt(3);
        row.Should().Equal(third, 0, third, 0, third);
        tree.WriteRow(1, row);
        float half = 1 / MathF.Sqrt(2);
        row.Should().Equal(half, half, 0, 0, 0);
        row.Sum(v => (double)v * v).Should().BeApproximately(1, 1e-6, "unit length, like a one-hot");

        var back = LabelTree.FromJson(tree.ToJson());
        back.Parent.Should().Equal(tree.Parent);
        back.LeafOfCluster.Should().Equal(tree.LeafOfCluster);
    }

    [Fact]
    public void RejectsTreesThatCannotCondition()
    {
        FluentActions.Invoking(() => new LabelTree([-1, 0, 0], [1])).Should().Throw<ArgumentException>().WithMessage("*leaf node 2 holds no cluster*");
        FluentActions.Invoking(() => new LabelTree([-1, 0, 0], [1, 1])).Should().Throw<ArgumentException>().WithMessage("*already holds*");
        FluentActions.Invoking(() => new LabelTree([-1, 0, 0], [0, 1])).Should().Throw<ArgumentException>().WithMessage("*not a leaf*");
        FluentActions.Invoking(() => new LabelTree([-1, 2, 0], [1, 2])).Should().Throw<ArgumentException>().WithMessage("*breadth-first*");
    }

    [Fact]
    public void TrainerFeedsPathRowsAndTheMapEncodesThemAlike()
    {
        var data = TrainingTestData.Patterns(4);
        var (tree, _) = LabelTree.FromParents([3, 3, 4, 4, -1], [0, 1, 2, -1, -1]);
        var clusters = new ClusterLabels("agglo", 3, Enumerable.Range(0, data.Count).Select(i => i % 3).ToArray(), null, null, null, null);
        var source = LabelSource.FromClusterPaths(clusters, tree);
        source.Mode.Should().Be("path");
        source.K.Should().Be(3);
        source.Dim.Should().Be(5);
        var trainer = new EdmTrainer(TrainingTestData.Micro(5), data, source, TrainingTestData.Options(0.008, batch: 4));
        trainer.TrainOneStep();
        var rows = trainer.LastCondition!.Labels!;
        rows.Shape.ToArray().Should().Equal(4, 5);
        var map = new LabelMap("path", source.Used, source.Counts) { Tree = tree };
        for (int i = 0; i < 4; i++)
        {
            var row = rows.Data.AsSpan(i * 5, 5).ToArray();
            row[0].Should().BeGreaterThan(0, "every path starts at the root");
            var expected = new float[5];
            int last = Array.FindLastIndex(row, v => v > 0);
            tree.WriteRow(last, expected);
            row.Should().Equal(expected);
            int cluster = Array.IndexOf(tree.LeafOfCluster, last);
            map.Rows([cluster]).Data.Should().Equal(expected, "sampling encodes a cluster as training did");
        }
        FluentActions.Invoking(() => new EdmTrainer(TrainingTestData.Micro(3), data, source, TrainingTestData.Options(0.008, batch: 4)))
            .Should().Throw<ArgumentException>().WithMessage("*rows of 5*");
    }

    [Fact]
    public void PathTruncationTrainsPrefixRowsAtItsRateAndLeavesOtherRunsAlone()
    {
        // Tree: root 4 → {node 3 → {cluster 0 (node 0), cluster 1 (node 1)}, cluster 2 (node 2)}, breadth-first
        // renumbered by FromParents. A truncated row is the unit path row of a proper ancestor of the image's leaf.
        var data = TrainingTestData.Patterns(4);
        var (tree, _) = LabelTree.FromParents([3, 3, 4, 4, -1], [0, 1, 2, -1, -1]);
        var clusters = new ClusterLabels("agglo", 3, Enumerable.Range(0, data.Count).Select(i => i % 3).ToArray(), null, null, null, null);
        var source = LabelSource.FromClusterPaths(clusters, tree);
        var options = TrainingTestData.Options(1, batch: 12) with { PathTruncation = 0.5 };
        var trainer = new EdmTrainer(TrainingTestData.Micro(5), data, source, options);
        int full = 0, cut = 0;
        var cutDepths = new HashSet<int>();
        for (int step = 0; step < 20; step++)
        {
            trainer.TrainOneStep();
            var rows = trainer.LastCondition!.Labels!.Data;
            for (int i = 0; i < 12; i++)
            {
                var row = rows.AsSpan(i * 5, 5).ToArray();
                int last = Array.FindLastIndex(row, v => v > 0);
                var expected = new float[5];
                tree.WriteRow(last, expected);
                row.Should().Equal(expected, "every row is the unit path row of one node");
                if (tree.IsLeaf(last)) full++;
                else { cut++; cutDepths.Add(tree.Depth(last)); }
            }
        }
        // P(cut) = 0.5 for every image (each has at least one ancestor): 240 rows, binomial sd ≈ 7.7.
        cut.Should().BeInRange(120 - 35, 120 + 35);
        (full + cut).Should().Be(240);
        cutDepths.Should().BeEquivalentTo(new[] { 0, 1 }, "the root and the inner node are both trained");

        var plain = new EdmTrainer(TrainingTestData.Micro(5), data, source, TrainingTestData.Options(0.008, batch: 4));
        var zero = new EdmTrainer(TrainingTestData.Micro(5), data, source, TrainingTestData.Options(0.008, batch: 4) with { PathTruncation = 0 });
        plain.TrainOneStep();
        zero.TrainOneStep();
        zero.LastCondition!.Labels!.Data.Should().Equal(plain.LastCondition!.Labels!.Data, "no truncation draws no numbers");
        FluentActions.Invoking(() => (TrainingTestData.Options(0.008) with { PathTruncation = 1 }).Validate()).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void ANodeDrawGivesEveryImageThePartialRowAndNoCluster()
    {
        var (tree, _) = LabelTree.FromParents([3, 3, 4, 4, -1], [0, 1, 2, -1, -1]);
        var map = new LabelMap("path", [0, 1, 2], [6, 2, 4]) { Tree = tree };
        int inner = Enumerable.Range(0, 5).Single(v => !tree.IsLeaf(v) && tree.Depth(v) == 1);
        var draw = ConditionDraw.AtNode(map, inner);
        var rng = new Cedm.Tensors.Rng(3);
        draw.Draw(rng).Should().Be(-1, "no single cluster makes the image");
        var other = new Cedm.Tensors.Rng(3);
        other.NextDouble();
        rng.NextDouble().Should().Be(other.NextDouble(), "the draw takes exactly one uniform number, like every condition draw");
        var expected = new float[5];
        tree.WriteRow(inner, expected);
        draw.Encode([-1, -1]).Data.Should().Equal([.. expected, .. expected]);
        FluentActions.Invoking(() => ConditionDraw.AtNode(map, 5)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void RowedDrawsKeepTheirIdsAndWidenTheirRows()
    {
        // The draw of node 2 (clusters 0 and 1, counts 6 and 2) is p(c) restricted to its leaves.
        var draw = ConditionDraw.Empirical([6, 2, 0]);
        var (tree, _) = LabelTree.FromParents([3, 3, 4, 4, -1], [0, 1, 2, -1, -1]);
        var map = new LabelMap("path", [0, 1, 2], [6, 2, 4]) { Tree = tree };
        var rowed = draw.WithRows(map);
        rowed.Dim.Should().Be(5);
        rowed.K.Should().Be(3);
        var rng = new Cedm.Tensors.Rng(7);
        var ids = Enumerable.Range(0, 400).Select(_ => rowed.Draw(rng)).ToArray();
        ids.Should().OnlyContain(c => c == 0 || c == 1);
        ids.Count(c => c == 0).Should().BeInRange(260, 340, "p(0 | node) = 6/8");
        var plain = new Cedm.Tensors.Rng(7);
        ids.Should().Equal(Enumerable.Range(0, 400).Select(_ => draw.Draw(plain)), "rows change the encoding, not the draw");
        rowed.Encode([2]).Data.Should().Equal(map.Rows([2]).Data);
        draw.Encode([2]).Data.Should().Equal(0f, 0f, 1f);
    }
}

/// <summary>A Ward tree over a known hierarchy (two pairs of close blobs) read back as a path-conditioning tree.</summary>
public sealed class WardPathTreeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-wardpath-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(4000, 1000)]   // exact Ward over the points
    [InlineData(50, 24)]       // micro-clusters first (tree.json with leaf_of_point)
    public void SiblingBlobsShareTheirParent(int exactLimit, int micro)
    {
        var centers = new (float X, float Y)[] { (-10, -2), (-10, 2), (10, -2), (10, 2) };
        var rng = new Cedm.Tensors.Rng(5);
        int per = 40, n = per * 4;
        var x = new float[n * 2];
        var truth = new int[n];
        for (int i = 0; i < n; i++)
        {
            truth[i] = i % 4;
            x[i * 2] = centers[truth[i]].X + 0.3f * (float)rng.NextNormal();
            x[i * 2 + 1] = centers[truth[i]].Y + 0.3f * (float)rng.NextNormal();
        }
        var agg = new Agglomerative(new AgglomerativeOptions { K = 4, ExactLimit = exactLimit, MicroClusters = micro });
        var a = agg.Fit(new Cedm.Tensors.Tensor(x, n, 2), new Cedm.Tensors.Rng(1));
        (agg.Tree!.LeafOfPoint != null).Should().Be(exactLimit < n);
        a.Save(_dir);
        agg.Tree.Save(Path.Combine(_dir, ClusterTree.FileName));

        var clusters = Cedm.Stages.ConditionSources.LoadClusters(_dir);
        var tree = Cedm.Stages.ConditionSources.LoadTree(_dir, clusters);
        tree.Nodes.Should().Be(7);
        tree.MaxDepth.Should().Be(2, "two pairs: a balanced tree");
        int ClusterOfBlob(int blob) => a.Ids[Array.IndexOf(truth, blob)];
        int ParentOfBlob(int blob) => tree.Parent[tree.LeafOfCluster[ClusterOfBlob(blob)]];
        ParentOfBlob(0).Should().Be(ParentOfBlob(1));
        ParentOfBlob(2).Should().Be(ParentOfBlob(3));
        ParentOfBlob(0).Should().NotBe(ParentOfBlob(2));
        tree.Frontier(1).Should().Equal(1, 2);
    }
}
