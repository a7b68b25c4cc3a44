using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Text.Json.Nodes;
using Cedm.Tensors;

namespace Cedm.Clustering;

/// <summary>
/// Hierarchical clustering with Ward linkage (spec §4.6 baseline): a full binary <see cref="ClusterTree"/>, exact over the
/// points up to <see cref="AgglomerativeOptions.ExactLimit"/>, otherwise over k-means micro-clusters (weighted Ward);
/// the assignment is the tree cut at K. Hard method (no probabilities); confidence as documented in the options.
/// </summary>
public sealed class Agglomerative(AgglomerativeOptions options) : IClusterer
{
    public AgglomerativeOptions Options { get; } = options;

    public string Method => "agglo";

    /// <summary>The last fit's tree (saved as tree.json by the CLI) and nearest-centroid model of the cut clusters.</summary>
    public ClusterTree? Tree { get; private set; }

    public KMeansModel? Model { get; private set; }

    public ClusterAssignment Fit(Tensor features, Rng rng, IProgress<double>? progress = null)
    {
        var (n, d) = FeatureMatrix.Check(features, Options.K);
        Options.Validate();
        float[] x = Options.Cosine ? FeatureMatrix.L2NormalizedRows(features.Data, n, d) : features.Data;
        bool micro = n > Options.ExactLimit;
        int m = n;
        if (micro)
        {
            m = Math.Min(n, Math.Max(Options.MicroClusters, Options.K));
            var km = KMeans.Run(x, n, d, new KMeansOptions { K = m, NInit = 1, MaxIter = 100 }, rng,
                progress is null ? null : new Progress<double>(f => progress.Report(0.8 * f)));
            // Drop any micro-cluster k-means left empty so every leaf has weight.
            var counts = new int[m];
            foreach (int l in km.Labels) counts[l]++;
            var remap = new int[m];
            int used = 0;
            for (int c = 0; c < m; c++) remap[c] = counts[c] > 0 ? used++ : -1;
            var centers = new float[used * d];
            var weights = new double[used];
            var leafCounts = new int[used];
            for (int c = 0; c < m; c++)
                if (remap[c] >= 0)
                {
                    km.Centers.AsSpan(c * d, d).CopyTo(centers.AsSpan(remap[c] * d, d));
                    weights[remap[c]] = leafCounts[remap[c]] = counts[c];
                }
            var leafOf = km.Labels.Select(l => remap[l]).ToArray();
            if (used < Options.K) throw new InvalidOperationException($"only {used} non-empty micro-clusters for K = {Options.K}");
            Tree = new ClusterTree(used, WardLinkage.Build(centers, used, d, weights, leafCounts), leafOf);
            m = used;
        }
        else
        {
            Tree = new ClusterTree(n, WardLinkage.Build(x, n, d, Enumerable.Repeat(1.0, n).ToArray()));
        }
        var ids = Tree.Cut(Options.K);
        progress?.Report(0.9);

        var (centroids, meanSq) = CutCentroids(x, n, d, ids, Options.K);
        double temperature = KMeansModel.DefaultTemperature(meanSq * n, n);
        Model = new KMeansModel(centroids, Options.K, d, temperature, Options.Cosine, ClusterModels.AggloKind);
        var conf = OwnClusterConfidence(x, n, d, ids, centroids, Options.K, temperature);
        progress?.Report(1.0);
        var json = new JsonObject
        {
            ["k"] = Options.K, ["linkage"] = "ward", ["exact"] = !micro, ["exact_limit"] = Options.ExactLimit,
            ["leaves"] = m, ["micro_clusters"] = micro ? m : null, ["cosine"] = Options.Cosine, ["temperature"] = temperature,
            ["cut_height"] = Options.K > 1 && Tree.Merges.Length >= Options.K - 1 ? Tree.Merges[^(Options.K - 1)].Height : null,
        };
        return new ClusterAssignment(Method, Options.K, ids, conf, null, json);
    }

    private static (float[] Centroids, double MeanSq) CutCentroids(float[] x, int n, int d, int[] ids, int k)
    {
        var sums = new double[k * d];
        var counts = new int[k];
        for (int i = 0; i < n; i++)
        {
            counts[ids[i]]++;
            for (int j = 0; j < d; j++) sums[ids[i] * d + j] += x[i * d + j];
        }
        var c = new float[k * d];
        for (int q = 0; q < k; q++)
            for (int j = 0; j < d; j++) c[q * d + j] = (float)(sums[q * d + j] / Math.Max(1, counts[q]));
        return (c, KMeans.ExactInertia(x, n, d, c, ids) / n);
    }

    /// <summary>softmax(−d²/T) of the point's own cut cluster (it need not be the nearest centroid in a Ward tree).</summary>
    private static float[] OwnClusterConfidence(float[] x, int n, int d, int[] ids, float[] centroids, int k, double t)
    {
        var conf = new float[n];
        var dist = new float[k];
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * d, d);
            for (int q = 0; q < k; q++) dist[q] = TensorPrimitives.Distance(row, centroids.AsSpan(q * d, d)) is var e ? e * e : 0;
            float min = TensorPrimitives.Min(dist);
            double sum = 0;
            foreach (float v in dist) sum += Math.Exp(-(v - min) / t);
            conf[i] = (float)(Math.Exp(-(dist[ids[i]] - min) / t) / sum);
        }
        return conf;
    }
}
