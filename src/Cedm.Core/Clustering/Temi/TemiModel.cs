using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;
using Shapes = Cedm.Tensors.Shapes;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Clustering.Temi;

/// <summary>
/// A trained TEMI clustering: the teacher's best head (spec §4.6) and τ_t. Places features into clusters by
/// argmax of the logits; confidence = maximum softmax probability at τ_t (spec §6.5: the paper's "TEMI confidence"
/// is the MSP, its temperature unstated; TEMI's own evaluation uses τ_t = 0.1).
/// Saved as temi_head.safetensors (mlp0/mlp1/last parameters) + temi_model.json (sizes and τ_t).
/// </summary>
public sealed class TemiModel : IClusterModel
{
    public const string WeightsFile = "temi_head.safetensors", JsonFile = "temi_model.json";

    /// <summary>Rows per forward chunk when predicting (bounds the [rows, hidden] activations).</summary>
    private const int ChunkRows = 8192;

    public TemiModel(TemiHead head, float teacherTemperature)
    {
        Head = head ?? throw new ArgumentNullException(nameof(head));
        if (!(teacherTemperature > 0)) throw new ArgumentOutOfRangeException(nameof(teacherTemperature), teacherTemperature, "τ_t must be > 0.");
        TeacherTemperature = teacherTemperature;
        Head.SetTraining(false);
    }

    public TemiHead Head { get; }

    public float TeacherTemperature { get; }

    public int K => Head.K;

    public int InputDim => Head.InputDim;

    /// <summary>Softmax probabilities at τ_t, [N, K] row-major.</summary>
    public float[] Probabilities(Tensor features)
    {
        if (features.Rank != 2 || features.Dim(1) != InputDim)
            throw new ArgumentException($"TEMI model expects features [N, {InputDim}], got {Shapes.Format(features.Shape)}.");
        int n = features.Dim(0), d = InputDim, k = K;
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

    public void Save(string dir, bool overwrite = false)
    {
        Directory.CreateDirectory(dir);
        string weights = Path.Combine(dir, WeightsFile), json = Path.Combine(dir, JsonFile);
        if (!overwrite)
            foreach (var f in new[] { weights, json })
                if (File.Exists(f)) throw new IOException($"{f} already exists (pass --force to overwrite)");
        if (File.Exists(weights)) File.Delete(weights);
        Head.SaveSafetensors(weights);
        var doc = new JsonObject
        {
            ["method"] = "temi",
            ["k"] = K,
            ["input_dim"] = InputDim,
            ["hidden"] = Head.Hidden,
            ["bottleneck"] = Head.Bottleneck,
            ["teacher_temperature"] = TeacherTemperature,
        };
        AtomicFile.WriteAllBytes(json, System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true })), overwrite: true);
    }

    /// <summary>Reads a folder written by <see cref="Save"/>.</summary>
    public static TemiModel Load(string dir)
    {
        string weights = Path.Combine(dir, WeightsFile), json = Path.Combine(dir, JsonFile);
        if (!File.Exists(json)) throw new FileNotFoundException($"{dir}: no {JsonFile} (not a TEMI cluster folder)", json);
        if (!File.Exists(weights)) throw new FileNotFoundException($"{dir}: no {WeightsFile}", weights);
        var doc = JsonNode.Parse(File.ReadAllText(json)) as JsonObject ?? throw new InvalidDataException($"{json}: not a JSON object");
        int Int(string key) => doc[key]?.GetValue<int>() ?? throw new InvalidDataException($"{json}: missing '{key}'");
        var head = new TemiHead(Int("input_dim"), Int("k"), Int("hidden"), Int("bottleneck"), new Rng(0));
        head.LoadSafetensors(weights);
        float tau = doc["teacher_temperature"]?.GetValue<float>() ?? throw new InvalidDataException($"{json}: missing 'teacher_temperature'");
        return new TemiModel(head, tau);
    }
}
