using Cedm.Clustering;
using Cedm.Data;
using Cedm.Diffusion.Labels;
using Cedm.IO;

namespace Cedm.Stages;

/// <summary>
/// The adapter between clustering and diffusion: turns a condition spec (cli.md `--cond none|labels|clusters:&lt;dir&gt;`)
/// (or `path:&lt;dir&gt;`, the root-to-leaf paths of a cluster tree) into the generator's <see cref="LabelSource"/>, reading a `cedm cluster` folder into the neutral
/// <see cref="ClusterLabels"/> so that <c>Cedm.Diffusion</c> never references <c>Cedm.Clustering</c>.
/// A new conditioning kind is one case here plus its source type in Diffusion.
/// </summary>
public static class ConditionSources
{
    public const string Syntax = "none, labels, clusters:<dir>, tree:<dir> (or path:<dir>), treevae:<dir>, features:<npy> or gmm:<dir>";

    /// <summary>The conditioning of <paramref name="dataset"/> named by <paramref name="spec"/>, with the clustering it came from (or null).</summary>
    public static (LabelSource Labels, ClusterLabels? Clusters) Resolve(string spec, ImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(dataset);
        if (spec == "none") return (LabelSource.None, null);
        // A continuous condition (features:, gmm:) has no labels; FeatureConditions reads it.
        if (FeatureConditions.IsFeatureSpec(spec)) return (LabelSource.None, null);
        // Diffuse-TreeVAE's leaf and decode come from the image condition source (TreeVaeConditions), not labels.
        if (TreeVaeConditions.IsSpec(spec)) return (LabelSource.None, null);
        if (spec == "labels")
        {
            if (dataset.Labels is null) throw new SettingException("Cond", $"labels: {dataset.Name} has no labels");
            return (LabelSource.FromLabels(dataset.Labels), null);
        }
        if (spec.StartsWith("clusters:", StringComparison.Ordinal))
        {
            string dir = spec["clusters:".Length..];
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"clusters:{dir}: no such folder (expected a `cedm cluster` output)");
            var clusters = LoadClusters(dir);
            if (clusters.Count != dataset.Count)
                throw new InvalidDataException($"clusters:{dir}: {clusters.Count} cluster ids for {dataset.Count} images of {dataset.Name}");
            return (LabelSource.FromClusters(clusters), clusters);
        }
        if (TreeFolder(spec) is { } treeDir)
        {
            if (!Directory.Exists(treeDir)) throw new DirectoryNotFoundException($"{spec}: no such folder (expected a `cedm cluster --method treevae` or `--method agglo` output)");
            var clusters = LoadClusters(treeDir);
            if (clusters.Count != dataset.Count)
                throw new InvalidDataException($"{spec}: {clusters.Count} cluster ids for {dataset.Count} images of {dataset.Name}");
            var tree = LoadTree(treeDir, clusters);
            try { return (LabelSource.FromClusterPaths(clusters, tree), clusters); }
            catch (ArgumentException e) { throw new InvalidDataException($"{spec}: {e.Message}", e); }
        }
        throw new SettingException("Cond", $"expected {Syntax}, got '{spec}'");
    }

    /// <summary>
    /// The tree above a cluster folder's K clusters (path conditioning, docs/hierarchy.md): the folder's tree.json (a
    /// Ward tree of `cedm cluster --method agglo`) cut at K, the cut's clusters checked against ids.npy.
    /// </summary>
    public static LabelTree LoadTree(string dir, ClusterLabels clusters)
    {
        string treeVae = Path.Combine(dir, Clustering.TreeVae.TreeVaeClusterer.TreeFile);
        if (File.Exists(treeVae)) return LoadTreeVaeTree(treeVae, clusters);
        string file = Path.Combine(dir, ClusterTree.FileName);
        if (!File.Exists(file))
            throw new SettingException("Cond", $"path:{dir}: no {ClusterTree.FileName} (path conditioning needs a tree: `cedm cluster --method treevae` or `--method agglo`)");
        var ward = ClusterTree.Load(file);
        if (ward.Points != clusters.Count) throw new InvalidDataException($"{file}: a tree over {ward.Points} points; ids.npy has {clusters.Count}");
        if (clusters.K > ward.Leaves) throw new InvalidDataException($"{file}: {ward.Leaves} leaves cannot be cut into K = {clusters.K} clusters");
        if (!ward.Cut(clusters.K).AsSpan().SequenceEqual(clusters.Ids))
            throw new InvalidDataException($"{file}: the tree cut at K = {clusters.K} does not give ids.npy (not the folder's own tree?)");
        var parent = ward.CutParents(clusters.K);
        var clusterOfNode = Enumerable.Range(0, parent.Length).Select(v => v < clusters.K ? v : -1).ToArray();
        return LabelTree.FromParents(parent, clusterOfNode).Tree;
    }

    /// <summary>`tree:&lt;dir&gt;` (cli.md) or its older spelling `path:&lt;dir&gt;`: the folder, else null.</summary>
    public static string? TreeFolder(string spec) =>
        spec.StartsWith("tree:", StringComparison.Ordinal) ? spec["tree:".Length..]
        : spec.StartsWith("path:", StringComparison.Ordinal) ? spec["path:".Length..] : null;

    /// <summary>A TreeVAE's tree (treevae.json: every node's parent, the leaf node of each cluster id in order).</summary>
    private static LabelTree LoadTreeVaeTree(string file, ClusterLabels clusters)
    {
        var json = JsonFile.ReadObject(file);
        try
        {
            var parent = json["parent"]!.AsArray().Select(v => (int)v!).ToArray();
            var leaves = json["leaves"]!.AsArray().Select(v => (int)v!).ToArray();
            if (clusters.K != leaves.Length) throw new InvalidDataException($"{file}: {leaves.Length} leaves; clusters.json has K = {clusters.K}");
            var clusterOfNode = Enumerable.Repeat(-1, parent.Length).ToArray();
            for (int c = 0; c < leaves.Length; c++)
            {
                if ((uint)leaves[c] >= (uint)parent.Length) throw new InvalidDataException($"{file}: leaf {c} is node {leaves[c]}, which does not exist");
                clusterOfNode[leaves[c]] = c;
            }
            return LabelTree.FromParents(parent, clusterOfNode).Tree;
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{file}: not a TreeVAE tree ({e.Message})", e);
        }
    }

    /// <summary>A cluster folder as the generator sees it (the confidence only when confidence.npy was saved).</summary>
    public static ClusterLabels LoadClusters(string dir)
    {
        var a = ClusterAssignment.Load(dir);
        bool hasConfidence = File.Exists(Path.Combine(dir, ClusterAssignment.ConfidenceFile));
        return FromAssignment(a, Path.GetFullPath(dir), hasConfidence);
    }

    /// <summary>An in-memory clustering as the generator sees it.</summary>
    public static ClusterLabels FromAssignment(ClusterAssignment a, string? origin = null, bool hasConfidence = true) =>
        new(a.Method, a.K, a.Ids, a.Probabilities, hasConfidence ? a.Confidence : null, a.ToJson(), origin);
}
