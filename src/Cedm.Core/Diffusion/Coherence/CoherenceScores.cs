using Cedm.Diffusion.Labels;
using Cedm.IO;

namespace Cedm.Diffusion.Coherence;

/// <summary>
/// Raw coherence scores, one per training image in [0, 1] (related-seeds C.2, D.1): from a clustering's soft
/// probabilities or saved confidence, or from a user .npy file. <see cref="Basis"/> says what was used.
/// </summary>
public sealed record CoherenceScores(float[] Values, string Basis)
{
    /// <summary>
    /// A score kind of <see cref="CoherenceOptions.Kinds"/> from <paramref name="clusters"/>:
    /// maxprob = max_k q(k|x) (probs row, normalised; no probs: the saved confidence, which for k-means is the
    /// softmax over negative squared distances at the assigned centroid — D.1's distance-softmax),
    /// entropy = 1 − H(q)/ln K with H in nats over the K probability columns (C.2 softmax_sampled; 1 when K = 1),
    /// confidence = the saved confidence as is. A clustering without a saved confidence makes confidence-based
    /// kinds an error instead of a silent constant.
    /// </summary>
    public static CoherenceScores FromClusters(ClusterLabels clusters, string kind)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        string method = clusters.Method;
        float[] values;
        string basis;
        switch (kind)
        {
            case CoherenceOptions.MaxProb when clusters.Probabilities != null:
                values = RowStatistic(clusters.Probabilities, clusters.Count, clusters.K, MaxOfRow);
                basis = $"max of the soft assignment's rows ({method})";
                break;
            case CoherenceOptions.MaxProb:
            case CoherenceOptions.Confidence:
                if (clusters.Confidence is null)
                    throw new InvalidDataException($"coherence {kind}: the clustering ({method}) saved no per-image confidence; pass a .npy of scores instead");
                values = (float[])clusters.Confidence.Clone();
                basis = $"saved confidence ({method}{(method == "kmeans" ? ": softmax over negative centroid distances" : "")})";
                break;
            case CoherenceOptions.Entropy:
                if (clusters.Probabilities == null)
                    throw new InvalidDataException($"coherence entropy needs soft probabilities; {method} saves none — use maxprob or confidence");
                values = RowStatistic(clusters.Probabilities, clusters.Count, clusters.K, row => NormalizedEntropyCoherence(row));
                basis = $"1 - H(probs)/ln {clusters.K} ({method})";
                break;
            default:
                throw new ArgumentException($"unknown coherence score kind '{kind}' (expected {string.Join(", ", CoherenceOptions.Kinds)})", nameof(kind));
        }
        Check(values, clusters.Count, $"coherence {kind}");
        return new CoherenceScores(values, basis);
    }

    /// <summary>A float32/float64 .npy of shape [N] (or [N, 1]) with values in [0, 1], no NaN.</summary>
    public static CoherenceScores FromFile(string path, int count)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"coherence scores {path}: no such file", path);
        var array = Npy.Read(path);
        if (array.DType is not (DType.F32 or DType.F64))
            throw new InvalidDataException($"coherence scores {path}: expected float32 or float64 scores, got {array.DType}");
        bool column = array.Shape.Length == 2 && array.Shape[1] == 1;
        if (array.Shape.Length != 1 && !column)
            throw new InvalidDataException($"coherence scores {path}: expected shape ({count},), got ({string.Join(", ", array.Shape)})");
        var values = array.ToFloat32();
        Check(values, count, $"coherence scores {path}");
        return new CoherenceScores(values, $"file {Path.GetFullPath(path)}");
    }

    /// <summary>max_k q_k / Σ q.</summary>
    public static float MaxOfRow(ReadOnlySpan<float> row)
    {
        double sum = 0, max = 0;
        foreach (float q in row) { sum += q; max = Math.Max(max, q); }
        return sum > 0 ? (float)(max / sum) : 0f;
    }

    /// <summary>1 − H(q)/ln K for a probability row (normalised first; 0·ln 0 = 0), clamped to [0, 1]; 1 when K = 1.</summary>
    public static float NormalizedEntropyCoherence(ReadOnlySpan<float> row)
    {
        int k = row.Length;
        if (k <= 1) return 1f;
        double sum = 0;
        foreach (float q in row) sum += Math.Max(q, 0);
        if (!(sum > 0)) return 0f;
        double h = 0;
        foreach (float q in row)
        {
            double p = Math.Max(q, 0) / sum;
            if (p > 0) h -= p * Math.Log(p);
        }
        return (float)Math.Clamp(1 - h / Math.Log(k), 0, 1);
    }

    private delegate float RowFunc(ReadOnlySpan<float> row);

    private static float[] RowStatistic(float[] probs, int n, int k, RowFunc f)
    {
        var y = new float[n];
        for (int i = 0; i < n; i++) y[i] = f(probs.AsSpan(i * k, k));
        return y;
    }

    /// <summary>Throws a readable error unless there are <paramref name="count"/> finite values in [0, 1].</summary>
    public static void Check(float[] values, int count, string what)
    {
        if (values.Length != count) throw new InvalidDataException($"{what}: {values.Length} scores for {count} training images");
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (float.IsNaN(v)) throw new InvalidDataException($"{what}: score {i} is NaN");
            if (!(v >= 0f && v <= 1f)) throw new InvalidDataException($"{what}: score {i} is {v}, outside [0, 1]");
        }
    }
}
