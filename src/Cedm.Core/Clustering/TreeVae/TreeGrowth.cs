namespace Cedm.Clustering.TreeVae;

/// <summary>A new tree and, for each of its nodes, the node of the old tree it continues (−1: new).</summary>
public sealed record TreeEdit(TreeShape Shape, int[] OldNodeOf);

/// <summary>Why growth chose a leaf, or why it stopped.</summary>
/// <param name="Leaf">The leaf node to split, or −1 to stop.</param>
/// <param name="Effective">Leaves holding at least the minimum share of the probability mass.</param>
/// <param name="Assigned">Samples assigned to each leaf (P(leaf|x) ≥ min(1/n_eff, 0.5)), by leaf order.</param>
public sealed record GrowthChoice(int Leaf, int Effective, int[] Assigned, string Reason);

/// <summary>
/// The decisions of TreeVAE's growing and pruning (related-seeds A.4), apart from any network: which leaf to split,
/// the tree after a split, and the tree after removing a leaf. Trees are <see cref="TreeShape"/>s; every edit also says
/// which old node each new node continues, so the model can carry its parameters over.
/// </summary>
public static class TreeGrowth
{
    /// <summary>
    /// A.4 step 2: stop once the effective leaves (mass ≥ <paramref name="minFraction"/> of all samples) reach
    /// <paramref name="maxLeaves"/>; else split the expandable leaf (depth &lt; <paramref name="maxDepth"/>, at least
    /// <paramref name="minSamples"/> assigned) with the most samples assigned, P(leaf|x) ≥ min(1/n_eff, 0.5).
    /// </summary>
    /// <param name="probs">P(leaf|x) [N, leaves] row-major, leaves in <see cref="TreeShape.Leaves"/> order.</param>
    public static GrowthChoice ChooseLeaf(TreeShape shape, float[] probs, int n, int maxLeaves, int maxDepth, int minSamples, double minFraction)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var leaves = shape.Leaves;
        int k = leaves.Length;
        if (probs.Length != (long)n * k) throw new ArgumentException($"{probs.Length} probabilities for {n} samples × {k} leaves", nameof(probs));
        var mass = new double[k];
        for (int i = 0; i < n; i++)
            for (int l = 0; l < k; l++) mass[l] += probs[(long)i * k + l];
        int effective = mass.Count(m => m >= minFraction * n);
        var assigned = new int[k];
        double threshold = Math.Min(1.0 / Math.Max(1, effective), 0.5);
        for (int i = 0; i < n; i++)
            for (int l = 0; l < k; l++)
                if (probs[(long)i * k + l] >= threshold) assigned[l]++;
        if (effective >= maxLeaves) return new GrowthChoice(-1, effective, assigned, $"{effective} effective leaves reach the {maxLeaves} asked for");
        var depth = shape.Depth;
        int best = -1;
        for (int l = 0; l < k; l++)
            if (depth[leaves[l]] < maxDepth && assigned[l] >= minSamples && (best < 0 || assigned[l] > assigned[best])) best = l;
        return best < 0
            ? new GrowthChoice(-1, effective, assigned, $"no leaf above depth {maxDepth} holds {minSamples} samples")
            : new GrowthChoice(leaves[best], effective, assigned, $"leaf {leaves[best]} holds the most samples ({assigned[best]})");
    }

    /// <summary>The tree with <paramref name="leaf"/> split into two new leaves, appended as the last two nodes.</summary>
    public static TreeEdit Split(TreeShape shape, int leaf)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if ((uint)leaf >= (uint)shape.Nodes || !shape.IsLeaf(leaf)) throw new ArgumentException($"node {leaf} is not a leaf", nameof(leaf));
        int m = shape.Nodes;
        var children = shape.Children.Select(c => c.ToArray()).Append([]).Append([]).ToArray();
        children[leaf] = [m, m + 1];
        return new TreeEdit(new TreeShape(children), [.. Enumerable.Range(0, m), -1, -1]);
    }

    /// <summary>
    /// A.4 step 3, one removal: the tree without <paramref name="leaf"/> and without any ancestor it leaves childless;
    /// a node left with one child becomes a pass-through. Nodes are renumbered breadth-first.
    /// </summary>
    public static TreeEdit RemoveLeaf(TreeShape shape, int leaf)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if ((uint)leaf >= (uint)shape.Nodes || !shape.IsLeaf(leaf)) throw new ArgumentException($"node {leaf} is not a leaf", nameof(leaf));
        if (leaf == 0 || shape.Leaves.Length < 2) throw new ArgumentException("the last leaf cannot be removed", nameof(leaf));
        var parent = shape.Parent;
        var kids = shape.Children.Select(c => c.ToList()).ToArray();
        for (int node = leaf; node > 0 && kids[node].Count == 0;)
        {
            int up = parent[node];
            kids[up].Remove(node);
            node = up;
        }
        return BreadthFirst(kids);
    }

    /// <summary>The first leaf, in leaf order, holding fewer than <paramref name="minFraction"/> of the samples by argmax, or −1.</summary>
    public static int SmallestLeafBelow(TreeShape shape, int[] leafCounts, double minFraction)
    {
        var leaves = shape.Leaves;
        if (leafCounts.Length != leaves.Length) throw new ArgumentException($"{leafCounts.Length} counts for {leaves.Length} leaves", nameof(leafCounts));
        long total = leafCounts.Sum(c => (long)c);
        int smallest = 0;
        for (int l = 1; l < leaves.Length; l++) if (leafCounts[l] < leafCounts[smallest]) smallest = l;
        return leaves.Length > 1 && leafCounts[smallest] < minFraction * total ? leaves[smallest] : -1;
    }

    /// <summary>Renumbers the nodes reachable from the root breadth-first (children in their order).</summary>
    private static TreeEdit BreadthFirst(List<int>[] kids)
    {
        var order = new List<int> { 0 };
        for (int i = 0; i < order.Count; i++) order.AddRange(kids[order[i]]);
        var newId = new Dictionary<int, int>();
        for (int j = 0; j < order.Count; j++) newId[order[j]] = j;
        var children = order.Select(old => kids[old].Select(c => newId[c]).ToArray()).ToArray();
        return new TreeEdit(new TreeShape(children), order.ToArray());
    }
}
