namespace Cedm.Clustering;

/// <summary>
/// Agglomerative (Ward) options.
/// <para><b>ExactLimit</b> (4,000): up to this many points the tree is exact Ward over the points; its condensed float64
/// distance matrix takes N(N−1)/2 · 8 bytes (64 MB at 4,000), so memory is O(N²) only while N² is small.</para>
/// <para>Above it the tree is built over <b>MicroClusters</b> (M = 1,000) k-means centroids with weighted Ward (micro-cluster
/// sizes as weights), so memory stays O(N + M²) and time O(N·M·D per k-means iteration + M²); points take their
/// micro-cluster's branch. M is raised to K when K &gt; M. This is the usual large-N compromise: Ward's first N − M merges
/// (the smallest ones) are replaced by k-means, which optimises the same within-cluster sum of squares.</para>
/// <para><b>Confidence</b>: max-softmax over −‖x − c_j‖²/T to the centroids of the K cut clusters (T = mean squared distance
/// to the own cut centroid), the probability of the point's own cluster — as for k-means.</para>
/// </summary>
public sealed record AgglomerativeOptions
{
    public int K { get; init; } = 8;
    public int ExactLimit { get; init; } = 4000;
    public int MicroClusters { get; init; } = 1000;
    public bool Cosine { get; init; }

    public void Validate()
    {
        if (K < 1) throw new SettingException(nameof(K), $"must be at least 1, got {K}");
        if (ExactLimit < 2) throw new SettingException(nameof(ExactLimit), $"must be at least 2, got {ExactLimit}");
        if (MicroClusters < 2) throw new SettingException(nameof(MicroClusters), $"must be at least 2, got {MicroClusters}");
    }
}
