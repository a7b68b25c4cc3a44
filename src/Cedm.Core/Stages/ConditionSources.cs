using Cedm.Clustering;
using Cedm.Data;
using Cedm.Diffusion.Labels;

namespace Cedm.Stages;

/// <summary>
/// The adapter between clustering and diffusion: turns a condition spec (cli.md `--cond none|labels|clusters:&lt;dir&gt;`)
/// into the generator's <see cref="LabelSource"/>, reading a `cedm cluster` folder into the neutral
/// <see cref="ClusterLabels"/> so that <c>Cedm.Diffusion</c> never references <c>Cedm.Clustering</c>.
/// A new conditioning kind is one case here plus its source type in Diffusion.
/// </summary>
public static class ConditionSources
{
    public const string Syntax = "none, labels, clusters:<dir>, features:<npy> or gmm:<dir>";

    /// <summary>The conditioning of <paramref name="dataset"/> named by <paramref name="spec"/>, with the clustering it came from (or null).</summary>
    public static (LabelSource Labels, ClusterLabels? Clusters) Resolve(string spec, ImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(dataset);
        if (spec == "none") return (LabelSource.None, null);
        // A continuous condition (features:, gmm:) has no labels; FeatureConditions reads it.
        if (FeatureConditions.IsFeatureSpec(spec)) return (LabelSource.None, null);
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
        throw new SettingException("Cond", $"expected {Syntax}, got '{spec}'");
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
