using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;

namespace Cedm.Clustering;

/// <summary>One agglomeration: nodes Left and Right (ids as in scipy's linkage matrix: leaves 0..L−1, the node made by
/// merge i is L + i) joined at Height, holding Size points.</summary>
public readonly record struct TreeMerge(int Left, int Right, double Height, int Size);

/// <summary>
/// A full binary merge tree over L leaves (points, or micro-clusters when <see cref="LeafOfPoint"/> is set), like scipy's
/// linkage matrix: L − 1 merges in non-decreasing height. <see cref="Cut"/>(k) undoes the last k − 1 merges, so cuts at
/// different k are nested. Saved as tree.json.
/// </summary>
public sealed class ClusterTree
{
    public ClusterTree(int leaves, TreeMerge[] merges, int[]? leafOfPoint = null, string linkage = "ward")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leaves, 1);
        if (merges.Length != leaves - 1) throw new ArgumentException($"{merges.Length} merges for {leaves} leaves; expected {leaves - 1}");
        for (int i = 0; i < merges.Length; i++)
        {
            var m = merges[i];
            if (m.Left < 0 || m.Right < 0 || m.Left >= leaves + i || m.Right >= leaves + i || m.Left == m.Right)
                throw new ArgumentException($"merge {i} joins nodes {m.Left} and {m.Right}, which do not exist yet");
        }
        if (leafOfPoint != null && leafOfPoint.Any(l => (uint)l >= (uint)leaves))
            throw new ArgumentException("leaf_of_point refers to a leaf that does not exist");
        Leaves = leaves; Merges = merges; LeafOfPoint = leafOfPoint; Linkage = linkage;
    }

    public int Leaves { get; }
    public TreeMerge[] Merges { get; }

    /// <summary>Leaf of each original point (micro-cluster path), or null when the leaves are the points.</summary>
    public int[]? LeafOfPoint { get; }

    public string Linkage { get; }

    public int Points => LeafOfPoint?.Length ?? Leaves;

    /// <summary>Cluster in [0, k) of every leaf after the first L − k merges; clusters are numbered by their lowest leaf.</summary>
    public int[] CutLeaves(int k)
    {
        if (k < 1 || k > Leaves) throw new ArgumentException($"cannot cut a tree with {Leaves} leaves into {k} clusters");
        var parent = new int[2 * Leaves - 1];
        for (int i = 0; i < parent.Length; i++) parent[i] = i;
        int Find(int v) { while (parent[v] != v) v = parent[v] = parent[parent[v]]; return v; }
        for (int i = 0; i < Leaves - k; i++)
        {
            int node = Leaves + i;
            parent[Find(Merges[i].Left)] = node;
            parent[Find(Merges[i].Right)] = node;
        }
        var label = new Dictionary<int, int>();
        var result = new int[Leaves];
        for (int l = 0; l < Leaves; l++)
        {
            int root = Find(l);
            if (!label.TryGetValue(root, out int id)) label[root] = id = label.Count;
            result[l] = id;
        }
        return result;
    }

    /// <summary>
    /// The tree above the cut at k (path conditioning, related-seeds D.3): 2k − 1 nodes, node c &lt; k being cluster c of
    /// <see cref="CutLeaves"/>(k) and node k + j the j-th of the last k − 1 merges; parent[root] = −1.
    /// </summary>
    public int[] CutParents(int k)
    {
        var leaf = CutLeaves(k);
        // Which tree node (scipy numbering) is each cut cluster: the node the first L − k merges made of its leaves.
        var owner = new int[2 * Leaves - 1];
        for (int i = 0; i < owner.Length; i++) owner[i] = i;
        int Find(int v) { while (owner[v] != v) v = owner[v] = owner[owner[v]]; return v; }
        for (int i = 0; i < Leaves - k; i++)
        {
            owner[Find(Merges[i].Left)] = Leaves + i;
            owner[Find(Merges[i].Right)] = Leaves + i;
        }
        var local = new Dictionary<int, int>();
        for (int l = 0; l < Leaves; l++) local[Find(l)] = leaf[l];
        for (int j = 0; j < k - 1; j++) local[Leaves + Leaves - k + j] = k + j;
        var parent = Enumerable.Repeat(-1, 2 * k - 1).ToArray();
        for (int j = 0; j < k - 1; j++)
        {
            var m = Merges[Leaves - k + j];
            parent[local[m.Left]] = k + j;
            parent[local[m.Right]] = k + j;
        }
        return parent;
    }

    /// <summary>Cluster in [0, k) of every original point.</summary>
    public int[] Cut(int k)
    {
        var leaf = CutLeaves(k);
        return LeafOfPoint is null ? leaf : LeafOfPoint.Select(l => leaf[l]).ToArray();
    }

    public const string FileName = "tree.json";

    public JsonObject ToJson() => new()
    {
        ["linkage"] = Linkage,
        ["leaves"] = Leaves,
        ["points"] = Points,
        ["merges"] = new JsonArray(Merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right, m.Height, m.Size)).ToArray()),
        ["leaf_of_point"] = LeafOfPoint is null ? null : new JsonArray(LeafOfPoint.Select(l => (JsonNode)l).ToArray()),
    };

    public void Save(string path, bool overwrite = false) =>
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(ToJson()), overwrite);

    public static ClusterTree Load(string path)
    {
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var merges = json["merges"]!.AsArray().Select(m =>
            {
                var a = m!.AsArray();
                return new TreeMerge(a[0]!.GetValue<int>(), a[1]!.GetValue<int>(), a[2]!.GetValue<double>(), a[3]!.GetValue<int>());
            }).ToArray();
            var lop = json["leaf_of_point"]?.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            return new ClusterTree(json["leaves"]!.GetValue<int>(), merges, lop, json["linkage"]?.GetValue<string>() ?? "ward");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a cluster tree ({e.Message})", e);
        }
    }
}
