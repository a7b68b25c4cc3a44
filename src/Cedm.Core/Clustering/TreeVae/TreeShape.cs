using Cedm.Tensors;

namespace Cedm.Clustering.TreeVae;

/// <summary>
/// The shape of a TreeVAE tree (related-seeds A.1): node 0 is the root, <see cref="Children"/>[i] is empty for a leaf,
/// (left, right) for a router node, or a single child for a pass-through node left by pruning (A.4: no router, its
/// reach probability passed on unchanged).
/// </summary>
public sealed class TreeShape
{
    public TreeShape(int[][] children)
    {
        ArgumentNullException.ThrowIfNull(children);
        if (children.Length == 0) throw new ArgumentException("a tree has a root");
        var seen = new bool[children.Length];
        seen[0] = true;
        for (int i = 0; i < children.Length; i++)
        {
            if (children[i].Length > 2) throw new ArgumentException($"node {i}: a binary tree node has at most 2 children");
            foreach (int c in children[i])
            {
                if (c <= i || c >= children.Length) throw new ArgumentException($"node {i}: child {c} must come after it");
                if (seen[c]) throw new ArgumentException($"node {c} has two parents");
                seen[c] = true;
            }
        }
        Children = children;
        Parent = new int[children.Length];
        Depth = new int[children.Length];
        Parent[0] = -1;
        for (int i = 0; i < children.Length; i++)
            foreach (int c in children[i])
            {
                Parent[c] = i;
                Depth[c] = Depth[i] + 1;
            }
        Leaves = Enumerable.Range(0, children.Length).Where(IsLeaf).ToArray();
    }

    public int[][] Children { get; }

    /// <summary>Parent of every node (−1 for the root).</summary>
    public int[] Parent { get; }

    /// <summary>Depth of every node (root 0).</summary>
    public int[] Depth { get; }

    public int Nodes => Children.Length;

    public bool IsLeaf(int node) => Children[node].Length == 0;

    /// <summary>Whether the node decides left/right (two children).</summary>
    public bool IsRouter(int node) => Children[node].Length == 2;

    /// <summary>The leaf nodes in increasing order: leaf l of the clustering is node Leaves[l].</summary>
    public int[] Leaves { get; }

    /// <summary>
    /// Reach probabilities down the tree (A.2): the root's is <paramref name="root"/>; a pass-through node hands its own
    /// on; a router i whose probability of going left is <paramref name="leftOf"/>(i) gives reach·left to its first child
    /// and reach·(1 − left) to its second. Where <paramref name="leftOf"/> gives null, or a router's own reach is unknown,
    /// its children's reach stays null. Used with the q-routers (P(i | x), the clustering) and the p-routers (π(z_0)).
    /// </summary>
    public Tensor?[] Reach(Tensor root, Func<int, Tensor?> leftOf)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(leftOf);
        var reach = new Tensor?[Nodes];
        reach[0] = root;
        for (int i = 0; i < Nodes; i++)
        {
            var kids = Children[i];
            if (reach[i] is not { } here || kids.Length == 0) continue;
            if (kids.Length == 1) reach[kids[0]] = here;
            else if (leftOf(i) is { } left)
            {
                reach[kids[0]] = here * left;
                reach[kids[1]] = here * (1f - left);
            }
        }
        return reach;
    }

    /// <summary>The root with two leaves, TreeVAE's starting tree (A.4 step 1).</summary>
    public static TreeShape TwoLeaves() => new([[1, 2], [], []]);
}
