using Cedm.Diffusion.Labels;
using Cedm.Stages;
using FluentAssertions;

namespace Cedm.Tests.Stages;

/// <summary>The report's drawing of a cluster tree.</summary>
public sealed class ClusterTreeTextTests
{
    [Fact]
    public void DrawsEveryNodeUnderItsParentWithSizesAndTopLabels()
    {
        // root → (cluster 2, node 2 → (cluster 0, cluster 1)), breadth-first: cluster 2 = node 1, 0 = node 3, 1 = node 4.
        var tree = new LabelTree([-1, 0, 0, 2, 2], [3, 4, 1]);
        int[] ids = [0, 0, 0, 1, 1, 2];
        long[] labels = [5, 5, 7, 7, 7, 9];
        var text = ClusterTreeText.Draw(tree, ids, labels, null);
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            "root (6 images: 7 50 %, 5 33 %)",
            "├─ cluster 2 (1 images: 9 100 %)",
            "└─ node 2 (5 images: 7 60 %, 5 40 %)",
            "   ├─ cluster 0 (3 images: 5 67 %, 7 33 %)",
            "   └─ cluster 1 (2 images: 7 100 %)");
        ClusterTreeText.Draw(tree, ids, null).Should().Contain("node 2 (5 images)");
        ClusterTreeText.Draw(tree, ids, labels, ["a", "b", "c", "d", "e", "sandal", "f", "shirt", "g", "bag"]).Should().Contain("cluster 2 (1 images: bag 100 %)");
    }
}
