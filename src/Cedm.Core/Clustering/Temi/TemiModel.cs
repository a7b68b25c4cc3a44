using System.Globalization;
using Cedm.IO;
using Shapes = Cedm.Tensors.Shapes;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Clustering.Temi;

/// <summary>
/// A trained TEMI clustering: the teacher's best head (spec §4.6) and τ_t. Places features into clusters by
/// argmax of the logits; confidence = maximum softmax probability at τ_t (spec §6.5: the paper's "TEMI confidence"
/// is the MSP, its temperature unstated; TEMI's own evaluation uses τ_t = 0.1).
/// Saved as one safetensors file (the head's parameters; sizes and τ_t in its metadata), loaded by <see cref="ClusterModels.Load"/>.
/// </summary>
public sealed class TemiModel : IClusterModel
{
    /// <summary>Rows per forward chunk when predicting (bounds the [rows, hidden] activations).</summary>
    private const int ChunkRows = 8192;

    public TemiModel(TemiHead head, float teacherTemperature, TemiWhitening? whitening = null)
    {
        Head = head ?? throw new ArgumentNullException(nameof(head));
        if (whitening != null && whitening.Dimension != head.InputDim)
            throw new ArgumentException($"the whitening gives {whitening.Dimension} values; the head reads {head.InputDim}", nameof(whitening));
        Whitening = whitening;
        if (!(teacherTemperature > 0)) throw new ArgumentOutOfRangeException(nameof(teacherTemperature), teacherTemperature, "τ_t must be > 0.");
        TeacherTemperature = teacherTemperature;
        Head.SetTraining(false);
    }

    public TemiHead Head { get; }

    public float TeacherTemperature { get; }

    public int K => Head.K;

    /// <summary>The input transform the head was trained behind (null: raw features).</summary>
    public TemiWhitening? Whitening { get; }

    /// <summary>Dimension of the features the model takes (before any whitening).</summary>
    public int InputDim => Whitening?.InputDim ?? Head.InputDim;

    /// <summary>Softmax probabilities at τ_t, [N, K] row-major.</summary>
    public float[] Probabilities(Tensor features)
    {
        if (features.Rank != 2 || features.Dim(1) != InputDim)
            throw new ArgumentException($"TEMI model expects features [N, {InputDim}], got {Shapes.Format(features.Shape)}.");
        return HeadProbabilities(Whitening?.Apply(features) ?? features);
    }

    /// <summary>Softmax probabilities at τ_t of features already in the head's input space (whitened when the model whitens).</summary>
    internal float[] HeadProbabilities(Tensor features)
    {
        int n = features.Dim(0), d = Head.InputDim, k = K;
        var probs = new float[(long)n * k];
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < n; start += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, n - start);
            var chunk = new Tensor(features.Data.AsSpan(start * d, rows * d).ToArray(), rows, d);
            var p = (Head.Forward(chunk) * (1f / TeacherTemperature)).Softmax(-1);
            p.Data.CopyTo(probs, (long)start * k);
        }
        return probs;
    }

    public (int[] Ids, float[] Confidence) Predict(Tensor features)
    {
        var probs = Probabilities(features);
        return ArgMax(probs, features.Dim(0), K);
    }

    /// <summary>Per row: argmax (first on ties) and the max probability.</summary>
    internal static (int[] Ids, float[] Confidence) ArgMax(float[] probs, int n, int k)
    {
        var ids = new int[n];
        var conf = new float[n];
        for (int i = 0; i < n; i++)
        {
            var row = probs.AsSpan(i * k, k);
            int best = 0;
            for (int c = 1; c < k; c++) if (row[c] > row[best]) best = c;
            ids[i] = best; conf[i] = row[best];
        }
        return (ids, conf);
    }

    /// <summary>
    /// Writes the head's parameters (mlp0/mlp1/last, float32) to <paramref name="path"/> (`cedm cluster` uses
    /// &lt;dir&gt;/model.safetensors) with metadata kind = temi, k, input_dim, hidden, bottleneck, teacher_temperature.
    /// </summary>
    public void Save(string path, bool overwrite = false)
    {
        if (!overwrite && File.Exists(path)) throw new OutputExistsException(path);
        var meta = new Dictionary<string, string>
        {
            [ClusterModels.KindKey] = ClusterModels.TemiKind,
            ["k"] = Str(K),
            ["input_dim"] = Str(Head.InputDim),
            ["hidden"] = Str(Head.Hidden),
            ["bottleneck"] = Str(Head.Bottleneck),
            ["teacher_temperature"] = TeacherTemperature.ToString("R", CultureInfo.InvariantCulture),
        };
        var tensors = Head.StateDict().Select(kv => (kv.Key, kv.Value.ShapeArray(), kv.Value.Data)).ToList();
        if (Whitening != null)
        {
            // Stored beside the head: "whiten.mean" [D] and "whiten.projection" [d, D].
            tensors.Add((WhitenMean, [Whitening.InputDim], Whitening.Mean));
            tensors.Add((WhitenProjection, [Whitening.Dimension, Whitening.InputDim], Whitening.Projection));
        }
        Safetensors.Write(path, tensors, meta);
    }

    private const string WhitenMean = "whiten.mean", WhitenProjection = "whiten.projection";

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Rebuilds the head from a file written by <see cref="Save"/> (dispatched by <see cref="ClusterModels.Load"/>).</summary>
    internal static TemiModel Load(SafetensorsFile file)
    {
        int Int(string key) => int.Parse(ClusterModels.Meta(file, key), CultureInfo.InvariantCulture);
        var head = new TemiHead(Int("input_dim"), Int("k"), Int("hidden"), Int("bottleneck"), new Rng(0));
        var state = file.Tensors.Where(kv => !kv.Key.StartsWith("whiten.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => new Tensor(kv.Value.Data, kv.Value.Shape));
        TemiWhitening? whitening = null;
        try
        {
            head.LoadStateDict(state);
            if (file.Tensors.TryGetValue(WhitenMean, out var mean) && file.Tensors.TryGetValue(WhitenProjection, out var projection))
                whitening = new TemiWhitening(mean.Data, projection.Data);
            else if (file.Tensors.ContainsKey(WhitenMean) || file.Tensors.ContainsKey(WhitenProjection))
                throw new ArgumentException($"one of {WhitenMean} and {WhitenProjection} without the other");
        }
        catch (Exception e) when (e is ArgumentException or Cedm.Nn.StateDictException)
        {
            throw new InvalidDataException($"TEMI cluster model: {e.Message}", e);
        }
        float tau = float.Parse(ClusterModels.Meta(file, "teacher_temperature"), CultureInfo.InvariantCulture);
        try { return new TemiModel(head, tau, whitening); }
        catch (ArgumentException e) { throw new InvalidDataException($"TEMI cluster model: {e.Message}", e); }
    }
}
