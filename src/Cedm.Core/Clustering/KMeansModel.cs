using System.Globalization;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Cedm.IO;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Clustering;

/// <summary>
/// A nearest-centroid model (k-means, and agglomerative clusters through their centroids): id = argmin_j ‖x − c_j‖²,
/// confidence = max softmax(−‖x − c_j‖² / T) (see <see cref="KMeansOptions"/> for T). Saved as model.safetensors with
/// tensor "centers" [K, D] and metadata kind / temperature / cosine.
/// </summary>
public sealed class KMeansModel : IClusterModel
{
    public KMeansModel(float[] centers, int k, int d, double temperature, bool cosine, string kind = ClusterModels.KMeansKind)
    {
        if (centers.Length != k * d) throw new ArgumentException($"centers have {centers.Length} values, expected K*D = {k}*{d}");
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw new ArgumentException($"temperature must be > 0, got {temperature}");
        Centers = centers; K = k; D = d; Temperature = temperature; Cosine = cosine; Kind = kind;
    }

    public float[] Centers { get; }
    public int K { get; }
    public int D { get; }
    public double Temperature { get; }
    public bool Cosine { get; }
    public string Kind { get; }

    /// <summary>T = inertia / N, floored so a perfect fit (inertia 0) still gives a finite softmax.</summary>
    public static double DefaultTemperature(double inertia, int n) => Math.Max(inertia / Math.Max(1, n), 1e-12);

    public (int[] Ids, float[] Confidence) Predict(Tensor features)
    {
        if (features.Shape.Length != 2 || features.Shape[1] != D)
            throw new ArgumentException($"features: expected (N, {D}), got ({string.Join(", ", features.ShapeArray())})");
        int n = features.Shape[0];
        float[] x = Cosine ? FeatureMatrix.L2NormalizedRows(features.Data, n, D) : features.Data;
        return PredictNormalized(x, n);
    }

    /// <summary>Predict on rows that are already in the model's space (normalised when cosine).</summary>
    internal (int[] Ids, float[] Confidence) PredictNormalized(float[] x, int n)
    {
        var ids = new int[n];
        var conf = new float[n];
        if (n == 0) return (ids, conf);
        var xNorms = Distances.RowSquaredNorms(x, n, D);
        var cNorms = Distances.RowSquaredNorms(Centers, K, D);
        int block = Math.Min(n, Distances.BlockRows);
        var dist = new float[block * K];
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start), s0 = start;
            Distances.Block(x, xNorms, start, rows, D, Centers, cNorms, K, dist);
            Parallelism.For(rows, (s, len) =>
            {
                for (int r = s; r < s + len; r++)
                {
                    var row = dist.AsSpan(r * K, K);
                    ids[s0 + r] = TensorPrimitives.IndexOfMin(row);
                    conf[s0 + r] = Distances.SoftmaxConfidence(row, Temperature);
                }
            }, minChunk: Math.Max(64, 8192 / K));
        }
        return (ids, conf);
    }

    public void Save(string path, bool overwrite = false)
    {
        if (!overwrite && File.Exists(path)) throw new OutputExistsException(path);
        var meta = new Dictionary<string, string>
        {
            [ClusterModels.KindKey] = Kind,
            ["k"] = K.ToString(CultureInfo.InvariantCulture),
            ["temperature"] = Temperature.ToString("R", CultureInfo.InvariantCulture),
            ["cosine"] = Cosine ? "true" : "false",
        };
        Safetensors.Write(path, [("centers", [K, D], Centers)], meta);
    }

    internal static KMeansModel Load(SafetensorsFile file, string kind)
    {
        var centers = ClusterModels.Tensor(file, "centers", 2);
        double t = double.Parse(ClusterModels.Meta(file, "temperature"), CultureInfo.InvariantCulture);
        bool cosine = ClusterModels.Meta(file, "cosine") == "true";
        return new KMeansModel(centers.Data, centers.Shape[0], centers.Shape[1], t, cosine, kind);
    }
}
