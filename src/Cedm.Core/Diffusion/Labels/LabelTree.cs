using System.Text.Json.Nodes;

namespace Cedm.Diffusion.Labels;

/// <summary>
/// A rooted tree over conditions for path conditioning (related-seeds A′.3, D.3): nodes 0..M−1 numbered breadth-first
/// (root 0, every node after its parent, children in the order given), each cluster a leaf. The condition of a leaf
/// is its root-to-leaf path as a multi-hot row over the M nodes, scaled to unit length (<see cref="WriteRow"/>), so the
/// network's <c>map_label</c> Linear turns it into a sum of one learned embedding per node on the path. Neutral: the
/// Diffusion layer never sees how the tree was made (a Ward tree cut at K, a TreeVAE tree); <c>Cedm.Stages</c> builds it.
/// </summary>
public sealed class LabelTree
{
    private readonly int[][] _children;
    private readonly int[] _depth;

    /// <param name="parent">Parent node of every node in breadth-first order (−1 for node 0, the root; parent[i] &lt; i).</param>
    /// <param name="leafOfCluster">Node of each original cluster id (index = original id; −1 = not in the tree).</param>
    public LabelTree(int[] parent, int[] leafOfCluster)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(leafOfCluster);
        if (parent.Length == 0 || parent[0] != -1) throw new ArgumentException("node 0 must be the root (parent −1)", nameof(parent));
        var children = Enumerable.Range(0, parent.Length).Select(_ => new List<int>()).ToArray();
        _depth = new int[parent.Length];
        for (int i = 1; i < parent.Length; i++)
        {
            if (parent[i] < 0 || parent[i] >= i) throw new ArgumentException($"node {i}: parent {parent[i]} is not an earlier node (breadth-first order)", nameof(parent));
            children[parent[i]].Add(i);
            _depth[i] = _depth[parent[i]] + 1;
        }
        for (int i = 1; i < parent.Length; i++)
            if (_depth[i] < _depth[i - 1]) throw new ArgumentException($"node {i} is shallower than node {i - 1}; nodes must be numbered breadth-first", nameof(parent));
        var seen = new HashSet<int>();
        for (int c = 0; c < leafOfCluster.Length; c++)
        {
            int node = leafOfCluster[c];
            if (node == -1) continue;
            if ((uint)node >= (uint)parent.Length) throw new ArgumentException($"cluster {c}: node {node} does not exist", nameof(leafOfCluster));
            if (children[node].Count > 0) throw new ArgumentException($"cluster {c}: node {node} is not a leaf", nameof(leafOfCluster));
            if (!seen.Add(node)) throw new ArgumentException($"cluster {c}: node {node} already holds another cluster", nameof(leafOfCluster));
        }
        for (int i = 0; i < parent.Length; i++)
            if (children[i].Count == 0 && !seen.Contains(i)) throw new ArgumentException($"leaf node {i} holds no cluster", nameof(leafOfCluster));
        Parent = parent; LeafOfCluster = leafOfCluster; _children = children.Select(l => l.ToArray()).ToArray();
    }

    /// <summary>Parent of every node (−1 for the root).</summary>
    public int[] Parent { get; }

    /// <summary>Node of each original cluster id (−1: not in the tree).</summary>
    public int[] LeafOfCluster { get; }

    /// <summary>M, the number of nodes: the width of a path row (the network's label dimension).</summary>
    public int Nodes => Parent.Length;

    /// <summary>Depth of the deepest leaf (root = 0).</summary>
    public int MaxDepth => _depth.Max();

    public int Depth(int node) => _depth[node];

    public IReadOnlyList<int> Children(int node) => _children[node];

    /// <summary>Nodes from the root to <paramref name="node"/>, both included.</summary>
    public int[] Path(int node)
    {
        var path = new List<int>();
        for (int v = node; v >= 0; v = Parent[v]) path.Add(v);
        path.Reverse();
        return path.ToArray();
    }

    /// <summary>Whether <paramref name="node"/> has no children.</summary>
    public bool IsLeaf(int node) => _children[node].Length == 0;

    /// <summary>Whether <paramref name="node"/> lies on the path of <paramref name="descendant"/> (a node is its own ancestor).</summary>
    public bool IsAncestor(int node, int descendant)
    {
        for (int v = descendant; v >= 0; v = Parent[v]) if (v == node) return true;
        return false;
    }

    /// <summary>The nodes of one depth, in node order; a leaf shallower than <paramref name="depth"/> stands for its own
    /// level (so every depth partitions the leaves, as a cut of the tree).</summary>
    public int[] Frontier(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        return Enumerable.Range(0, Nodes).Where(v => _depth[v] == depth || (_depth[v] < depth && _children[v].Length == 0)).ToArray();
    }

    /// <summary>
    /// The condition row of <paramref name="node"/>: 1/√p on the p nodes of its root path, 0 elsewhere. A Linear of
    /// this row is (Σ_{i ∈ path} W_i)/√p, a sum of per-node embeddings; the 1/√p keeps the row's length 1, like a
    /// one-hot, so after the network's √M label scale (EDM's √label_dim) a path row enters map_label at the same
    /// scale as a flat one-hot over M conditions, whatever the leaf's depth (docs/hierarchy.md).
    /// </summary>
    public void WriteRow(int node, Span<float> row)
    {
        if (row.Length != Nodes) throw new ArgumentException($"a path row has {Nodes} entries, got {row.Length}", nameof(row));
        row.Clear();
        var path = Path(node);
        float v = 1f / MathF.Sqrt(path.Length);
        foreach (int i in path) row[i] = v;
    }

    /// <summary>The tree as saved in label_map.json: parents and the leaf node of each original cluster id.</summary>
    public JsonObject ToJson() => new()
    {
        ["parent"] = new JsonArray(Parent.Select(p => (JsonNode)p).ToArray()),
        ["leaf_of_cluster"] = new JsonArray(LeafOfCluster.Select(p => (JsonNode)p).ToArray()),
    };

    public static LabelTree FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var parent = json["parent"]?.AsArray().Select(v => v!.GetValue<int>()).ToArray() ?? throw new InvalidDataException("tree: no 'parent'");
        var leaf = json["leaf_of_cluster"]?.AsArray().Select(v => v!.GetValue<int>()).ToArray() ?? throw new InvalidDataException("tree: no 'leaf_of_cluster'");
        try { return new LabelTree(parent, leaf); }
        catch (ArgumentException e) { throw new InvalidDataException($"tree: {e.Message}", e); }
    }

    /// <summary>
    /// Renumbers a rooted tree given by any parent array breadth-first (children in increasing old id). Returns the
    /// tree and newId[oldId]. <paramref name="clusterOfNode"/>[old] is the original cluster id of a leaf (−1 for
    /// internal nodes).
    /// </summary>
    public static (LabelTree Tree, int[] NewId) FromParents(int[] parent, int[] clusterOfNode)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(clusterOfNode);
        if (parent.Length != clusterOfNode.Length) throw new ArgumentException("one cluster entry per node");
        var roots = Enumerable.Range(0, parent.Length).Where(i => parent[i] < 0).ToArray();
        if (roots.Length != 1) throw new ArgumentException($"a tree has one root, got {roots.Length}", nameof(parent));
        var kids = Enumerable.Range(0, parent.Length).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < parent.Length; i++) if (parent[i] >= 0) kids[parent[i]].Add(i);
        var order = new List<int> { roots[0] };
        for (int q = 0; q < order.Count; q++) order.AddRange(kids[order[q]]);
        if (order.Count != parent.Length) throw new ArgumentException("the parent array has a cycle or a detached node", nameof(parent));
        var newId = new int[parent.Length];
        for (int i = 0; i < order.Count; i++) newId[order[i]] = i;
        var newParent = order.Select(o => parent[o] < 0 ? -1 : newId[parent[o]]).ToArray();
        int clusters = clusterOfNode.Max() + 1;
        var leafOf = Enumerable.Repeat(-1, Math.Max(clusters, 0)).ToArray();
        for (int i = 0; i < parent.Length; i++) if (clusterOfNode[i] >= 0) leafOf[clusterOfNode[i]] = newId[i];
        return (new LabelTree(newParent, leafOf), newId);
    }
}
