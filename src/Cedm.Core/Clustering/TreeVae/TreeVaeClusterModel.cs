using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Clustering.TreeVae;

/// <summary>
/// A trained TreeVAE as a cluster model: leaf l of an input is argmax P(l|x) (the q-routers, related-seeds A.2), its
/// confidence that probability. Saved as model.safetensors with NVlabs-style dotted parameter paths and, in the
/// metadata, the tree ("children"), the options and the input layout, so <see cref="Load"/> rebuilds the same network.
/// </summary>
public sealed class TreeVaeClusterModel : IClusterModel
{
    public const string ChildrenKey = "children", OptionsKey = "options", InputDimKey = "input_dim", ImageShapeKey = "image_shape";

    public TreeVaeClusterModel(TreeVaeModel model, int[]? imageShape = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        if (imageShape != null && (imageShape.Length != 3 || imageShape.Aggregate(1, (a, b) => a * b) != model.InputDim))
            throw new ArgumentException($"image shape [{string.Join(", ", imageShape)}] does not hold {model.InputDim} values", nameof(imageShape));
        ImageShape = imageShape;
        Model.SetTraining(false);
    }

    public TreeVaeModel Model { get; }

    /// <summary>[C, H, W] when the inputs are flattened images (decodes can then be shown as pictures), else null.</summary>
    public int[]? ImageShape { get; }

    public int K => Model.Leaves.Length;

    public (int[] Ids, float[] Confidence) Predict(Tensor features)
    {
        var probs = Model.LeafProbabilities(features);
        return Temi.TemiModel.ArgMax(probs, features.Dim(0), K);
    }

    public void Save(string path, bool overwrite)
    {
        var meta = new Dictionary<string, string>
        {
            [ClusterModels.KindKey] = ClusterModels.TreeVaeKind,
            [ChildrenKey] = JsonSerializer.Serialize(Model.Shape.Children),
            [OptionsKey] = JsonSerializer.Serialize(Model.Options),
            [InputDimKey] = Model.InputDim.ToString(CultureInfo.InvariantCulture),
        };
        if (ImageShape != null) meta[ImageShapeKey] = JsonSerializer.Serialize(ImageShape);
        if (!overwrite && File.Exists(path)) throw new OutputExistsException(path);
        Model.SaveSafetensors(path, meta);
    }

    public static TreeVaeClusterModel Load(SafetensorsFile file, string path)
    {
        try
        {
            var children = JsonSerializer.Deserialize<int[][]>(ClusterModels.Meta(file, ChildrenKey)) ?? throw new InvalidDataException("no tree");
            var options = JsonSerializer.Deserialize<TreeVaeOptions>(ClusterModels.Meta(file, OptionsKey)) ?? throw new InvalidDataException("no options");
            int inputDim = int.Parse(ClusterModels.Meta(file, InputDimKey), CultureInfo.InvariantCulture);
            int[]? imageShape = file.Metadata.TryGetValue(ImageShapeKey, out var s) ? JsonSerializer.Deserialize<int[]>(s) : null;
            var model = new TreeVaeModel(new TreeShape(children), options, inputDim, new Rng(0), imageShape);
            model.LoadSafetensors(file, path);
            return new TreeVaeClusterModel(model, imageShape);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}: not a readable TreeVAE model ({e.Message})", e);
        }
    }

    /// <summary>The tree for path conditioning and reports: every node's parent (−1 for the root), the leaf nodes in
    /// cluster order, depths, and each leaf's share of the data by argmax (<paramref name="leafCounts"/>).</summary>
    public JsonObject TreeJson(int[]? leafCounts = null)
    {
        var shape = Model.Shape;
        var doc = new JsonObject
        {
            ["kind"] = "treevae",
            ["parent"] = new JsonArray(shape.Parent.Select(p => (JsonNode)p).ToArray()),
            ["leaves"] = new JsonArray(shape.Leaves.Select(l => (JsonNode)l).ToArray()),
            ["depth"] = new JsonArray(shape.Depth.Select(d => (JsonNode)d).ToArray()),
        };
        if (leafCounts != null) doc["leaf_sizes"] = new JsonArray(leafCounts.Select(c => (JsonNode)c).ToArray());
        return doc;
    }
}
