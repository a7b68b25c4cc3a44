using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.Data;
using Cedm.IO;

namespace Cedm.Diffusion.Labels;

/// <summary>
/// What a diffusion model is conditioned on during training (cli.md `cedm train --cond none|labels|clusters:&lt;dir&gt;`):
/// nothing, the dataset's labels, or the hard ids of a `cedm cluster` folder. Ids are renumbered to the utilised
/// values in increasing order (spec §3, C-EDM's loader), so K_used — not the requested K — is the conditioning
/// dimension; <see cref="Used"/>[newId] = original id, and <see cref="Counts"/> are the training images per new id
/// (C-EDM's freq.pt, the p(c) used at generation).
/// </summary>
public sealed class LabelSource
{
    public const string MapFile = "label_map.json", ClustersCopyFile = "clusters.json";

    private LabelSource(string mode, string? origin, int[]? ids, long[] used, int[] counts, JsonObject? clustersJson, LabelTree? tree = null)
    {
        Mode = mode; Origin = origin; Ids = ids; Used = used; Counts = counts; ClustersJson = clustersJson; Tree = tree;
    }

    /// <summary>"none", "labels", "clusters" or "path".</summary>
    public string Mode { get; }

    /// <summary>The cluster folder for "clusters", else null.</summary>
    public string? Origin { get; }

    /// <summary>Compacted condition id per training image (null for "none").</summary>
    public int[]? Ids { get; }

    /// <summary>used[newId] = original label / cluster id.</summary>
    public long[] Used { get; }

    /// <summary>Training images per compacted id.</summary>
    public int[] Counts { get; }

    /// <summary>The cluster folder's clusters.json (copied into the run folder), when there was one.</summary>
    public JsonObject? ClustersJson { get; }

    /// <summary>The number of conditions K_used (0 = unconditional).</summary>
    public int K => Used.Length;

    /// <summary>For "path": the tree whose root-to-leaf paths are the conditions (docs/hierarchy.md); else null.</summary>
    public LabelTree? Tree { get; }

    /// <summary>The width of a condition row, the network's label dimension: K for one-hot conditions, the tree's
    /// node count M for path conditions.</summary>
    public int Dim => Tree?.Nodes ?? K;

    /// <summary>The row of compacted condition <paramref name="id"/>: one-hot, or the path row of its leaf (<see cref="LabelTree.WriteRow"/>).</summary>
    public void WriteRow(int id, Span<float> row) => LabelRows.Write(Tree, Used, id, row);

    public static LabelSource None { get; } = new("none", null, null, [], [], null);

    /// <summary>The dataset's labels (any integers), compacted to their distinct values in increasing order.</summary>
    public static LabelSource FromLabels(long[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var used = labels.Distinct().Order().ToArray();
        var index = used.Select((v, i) => (v, i)).ToDictionary(t => t.v, t => t.i);
        var ids = labels.Select(l => index[l]).ToArray();
        return new LabelSource("labels", null, ids, used, Count(ids, used.Length), null);
    }

    /// <summary>A clustering's hard ids, compacted to the utilised clusters (<see cref="ClusterLabels.Compacted"/>).</summary>
    public static LabelSource FromClusters(ClusterLabels clusters)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        var (ids, used) = clusters.Compacted();
        return new LabelSource("clusters", clusters.Origin, ids, used, Count(ids, used.Length), clusters.Summary);
    }

    /// <summary>
    /// A clustering's hard ids conditioned through their root-to-leaf paths in <paramref name="tree"/> (related-seeds
    /// A′.3): the conditions are still the utilised clusters (drawn by p(c) at sampling), their rows path rows.
    /// </summary>
    public static LabelSource FromClusterPaths(ClusterLabels clusters, LabelTree tree)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        ArgumentNullException.ThrowIfNull(tree);
        var (ids, used) = clusters.Compacted();
        foreach (long u in used)
            if (u >= tree.LeafOfCluster.Length || tree.LeafOfCluster[u] < 0) throw new ArgumentException($"cluster {u} has no leaf in the tree");
        if (used.Length != tree.LeafOfCluster.Count(l => l >= 0))
            throw new ArgumentException($"the tree has {tree.LeafOfCluster.Count(l => l >= 0)} leaves; {used.Length} clusters are used (a leaf without images could never be trained)");
        return new LabelSource("path", clusters.Origin, ids, used, Count(ids, used.Length), clusters.Summary, tree);
    }

    /// <summary>
    /// The dataset's labels for <paramref name="dataset"/>; throws naming the dataset when it has none. Cluster
    /// conditioning comes from <see cref="FromClusters"/> (the caller reads the clustering).
    /// </summary>
    public static LabelSource FromDataset(ImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Labels is null) throw new ArgumentException($"{dataset.Name} has no labels", nameof(dataset));
        return FromLabels(dataset.Labels);
    }

    private static int[] Count(int[] ids, int k)
    {
        var counts = new int[k];
        foreach (int id in ids) counts[id]++;
        return counts;
    }

    /// <summary>The label_map.json document: mode, source, k_used, used (new → original id), counts, p_c.</summary>
    public JsonObject ToJson()
    {
        double total = Math.Max(1, Counts.Sum(c => (double)c));
        return new JsonObject
        {
            ["mode"] = Mode,
            ["source"] = Origin,
            ["k_used"] = K,
            ["used"] = new JsonArray(Used.Select(u => (JsonNode)u).ToArray()),
            ["counts"] = new JsonArray(Counts.Select(c => (JsonNode)c).ToArray()),
            ["p_c"] = new JsonArray(Counts.Select(c => (JsonNode)(c / total)).ToArray()),
            ["tree"] = Tree?.ToJson(),
        };
    }

    /// <summary>Writes label_map.json (and a copy of clusters.json for cluster conditioning) into a run folder.</summary>
    public void Save(string runDir, bool overwrite = true)
    {
        var opts = new JsonSerializerOptions { WriteIndented = true };
        AtomicFile.WriteAllBytes(Path.Combine(runDir, MapFile), System.Text.Encoding.UTF8.GetBytes(ToJson().ToJsonString(opts)), overwrite);
        if (ClustersJson != null)
            AtomicFile.WriteAllBytes(Path.Combine(runDir, ClustersCopyFile), System.Text.Encoding.UTF8.GetBytes(ClustersJson.ToJsonString(opts)), overwrite);
    }

    /// <summary>The mapping of a run folder: (mode, used[newId] = original id, counts). Missing file: unconditional.</summary>
    public static LabelMap LoadMap(string runDir)
    {
        string path = Path.Combine(runDir, MapFile);
        if (!File.Exists(path)) return new LabelMap("none", [], []);
        return JsonFile.Read(path, json =>
        {
            var used = json["used"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
            var counts = json["counts"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            if (used.Length != counts.Length) throw new InvalidDataException($"{path}: 'used' and 'counts' differ in length");
            if (counts.Any(c => c < 0)) throw new InvalidDataException($"{path}: negative count in 'counts'");
            var tree = json["tree"] is JsonObject t ? LabelTree.FromJson(t) : null;
            return new LabelMap(json["mode"]?.GetValue<string>() ?? "none", used, counts) { Tree = tree };
        });
    }
}

/// <summary>A run's condition mapping: used[newId] = original id and training counts per new id.</summary>
public sealed record LabelMap(string Mode, long[] Used, int[] Counts)
{
    public int K => Used.Length;

    /// <summary>The tree of a path-conditioned run ("path"), else null.</summary>
    public LabelTree? Tree { get; init; }

    /// <summary>The network's label dimension: K, or the tree's node count for a path-conditioned run.</summary>
    public int Dim => Tree?.Nodes ?? K;

    /// <summary>The rows of compacted ids [ids.Length, Dim] (one-hot or path rows).</summary>
    public Cedm.Tensors.Tensor Rows(ReadOnlySpan<int> ids)
    {
        var data = new float[ids.Length * Dim];
        for (int i = 0; i < ids.Length; i++) LabelRows.Write(Tree, Used, ids[i], data.AsSpan(i * Dim, Dim));
        return new Cedm.Tensors.Tensor(data, ids.Length, Dim);
    }

    /// <summary>The compacted id of an original label/cluster id, or throws naming the utilised ids.</summary>
    public int ToCompact(long original)
    {
        int i = Array.IndexOf(Used, original);
        if (i < 0) throw new SettingException("Cluster", $"{original}: not a utilised {(Mode == "labels" ? "label" : "cluster")} of this run (it has {K}: {string.Join(", ", Used.Take(20))}{(K > 20 ? ", ..." : "")})");
        return i;
    }
}

/// <summary>One condition row: one-hot over the K conditions, or the path row of the condition's leaf.</summary>
internal static class LabelRows
{
    public static void Write(LabelTree? tree, long[] used, int id, Span<float> row)
    {
        if ((uint)id >= (uint)used.Length) throw new ArgumentOutOfRangeException(nameof(id), id, $"condition must be in [0, {used.Length})");
        if (tree == null)
        {
            if (row.Length != used.Length) throw new ArgumentException($"a one-hot row has {used.Length} entries, got {row.Length}", nameof(row));
            row.Clear();
            row[id] = 1;
        }
        else tree.WriteRow(tree.LeafOfCluster[used[id]], row);
    }
}
