using System.Text.Json.Nodes;

namespace Cedm.Diffusion.Labels;

/// <summary>
/// What the generator needs of a clustering, and nothing of how it was made: the hard id of every training image
/// (0..K−1), optional soft probabilities (row-major [N, K]) and a per-image confidence, for the coherence scores
/// (related-seeds C.2, D.1). The Diffusion layer never reads a cluster folder itself; <c>Cedm.Stages.ConditionSources</c>
/// turns one into this record.
/// </summary>
/// <param name="Method">How the clusters were made ("kmeans", "temi", ...), for messages and records.</param>
/// <param name="K">Requested number of clusters (ids lie in [0, K)).</param>
/// <param name="Ids">Hard cluster id per image.</param>
/// <param name="Probabilities">Soft assignment [N, K], or null for hard methods.</param>
/// <param name="Confidence">A saved per-image confidence, or null when the clustering kept none.</param>
/// <param name="Summary">The clustering's summary document (clusters.json), copied into the run folder.</param>
/// <param name="Origin">Where the clustering came from (a folder), recorded in label_map.json.</param>
public sealed record ClusterLabels(string Method, int K, int[] Ids, float[]? Probabilities, float[]? Confidence, JsonObject? Summary, string? Origin)
{
    public int Count => Ids.Length;

    /// <summary>Ids renumbered to the utilised clusters in increasing order (spec §3, C-EDM's loader), with used[newId] = oldId.</summary>
    public (int[] Ids, long[] Used) Compacted()
    {
        var used = Ids.Distinct().Order().ToArray();
        var map = new Dictionary<int, int>(used.Length);
        for (int i = 0; i < used.Length; i++) map[used[i]] = i;
        return (Ids.Select(id => map[id]).ToArray(), used.Select(u => (long)u).ToArray());
    }
}
