using System.Text.Json.Nodes;
using Cedm.Clustering.TreeVae;
using Cedm.Data;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>
/// Diffuse-TreeVAE's conditions (related-seeds A′.1) from a `cedm cluster --method treevae` folder: in training each
/// image x gets a leaf l ~ P(·|x) (the frozen tree's q-routers) and that leaf's decode of x's posterior path; at
/// sampling a root draw z_0 ~ N(0, I) walks the tree (A.1), l ~ π(z_0) and the condition is its decode at l. Decodes
/// are probabilities in [0, 1] mapped to [−1, 1] and centred in the run's (padded) frame, padding black like the data.
/// </summary>
public static class TreeVaeConditions
{
    public const string Kind = "treevae", Prefix = "treevae:";

    public static bool IsSpec(string cond) => cond.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The training source of `--cond treevae:&lt;dir&gt;` over <paramref name="data"/> (the run's images, padded or not).</summary>
    public static IImageConditionSource Source(string cond, ImageDataset data)
    {
        string dir = cond[Prefix.Length..];
        return new TreeVaeImageSource(TreeVaeImages.LoadModel(dir), Path.GetFullPath(dir), data);
    }

    /// <summary>The training source again, from a run's config.json record (resuming).</summary>
    public static IImageConditionSource Source(ImageConditionConfig record, ImageDataset data) =>
        new TreeVaeImageSource(TreeVaeImages.LoadModel(record.Source), record.Source, data);

    /// <summary>The sampler of a run trained on a TreeVAE's conditions, from its config.json record.</summary>
    public static IImageConditionSampler Sampler(ImageConditionConfig record) => new TreeVaeImageSampler(TreeVaeImages.LoadModel(record.Source));

    /// <summary>The index a uniform <paramref name="u"/> falls on in the cumulative <paramref name="probs"/>; the last
    /// index takes any rounding remainder.</summary>
    internal static int Categorical(ReadOnlySpan<float> probs, double u)
    {
        double acc = 0;
        for (int l = 0; l < probs.Length - 1; l++)
        {
            acc += probs[l];
            if (u < acc) return l;
        }
        return probs.Length - 1;
    }

    /// <summary>Writes decode rows [n, C·h·w] in [0, 1] into [n, C, H, W] in [−1, 1], centred, the border −1 (black).</summary>
    internal static Tensor Frame(float[][] decodes, int c, int h, int w, int height, int width)
    {
        if (height < h || width < w) throw new ArgumentException($"the run's images ({height}x{width}) are smaller than the TreeVAE's ({h}x{w})");
        int top = (height - h) / 2, left = (width - w) / 2, n = decodes.Length;
        var result = new float[(long)n * c * height * width];
        Array.Fill(result, -1f);
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        result[(((long)i * c + ch) * height + top + y) * width + left + x] = 2f * decodes[i][(ch * h + y) * w + x] - 1f;
        return new Tensor(result, n, c, height, width);
    }

    private sealed class TreeVaeImageSource : IImageConditionSource
    {
        private readonly TreeVaeClusterModel _model;
        private readonly string _dir;
        private readonly ImageDataset _data;
        private readonly int _c, _h, _w;
        private readonly float[] _probs;

        public TreeVaeImageSource(TreeVaeClusterModel model, string dir, ImageDataset data)
        {
            _model = model; _dir = dir; _data = data;
            (_c, _h, _w) = (model.ImageShape![0], model.ImageShape[1], model.ImageShape[2]);
            if (data.Channels != _c || data.Height < _h || data.Width < _w)
                throw new SettingException("Cond", $"{dir}: the TreeVAE was fitted on {_c}x{_h}x{_w} images; the training images are {data.Channels}x{data.Height}x{data.Width}");
            _probs = model.Model.LeafProbabilities(ClusteringInputs.Pixels(data, Enumerable.Range(0, data.Count).ToArray(), _h, _w));
        }

        public int Channels => _c;

        public int LeafCount => _model.K;

        public ImageCondition Draw(IReadOnlyList<int> rows, Rng rng)
        {
            int k = LeafCount;
            var leaves = new int[rows.Count];
            // A′.1: l ~ Categorical(P(·|x)).
            for (int i = 0; i < rows.Count; i++) leaves[i] = Categorical(_probs.AsSpan(rows[i] * k, k), rng.NextDouble());
            var (decodes, _) = _model.Model.Reconstruct(ClusteringInputs.Pixels(_data, rows, _h, _w), rng);
            var chosen = new float[rows.Count][];
            int size = _c * _h * _w;
            for (int i = 0; i < rows.Count; i++) chosen[i] = decodes[leaves[i]].Data.AsSpan(i * size, size).ToArray();
            return new ImageCondition(leaves, Frame(chosen, _c, _h, _w, _data.Height, _data.Width));
        }

        public ImageConditionConfig Describe() => new()
        {
            Kind = TreeVaeConditions.Kind, Source = _dir, Channels = Channels, LeafCount = LeafCount,
            Settings = new JsonObject { ["leaf_draw"] = "posterior", ["decode"] = "posterior sample of the image's path" },
        };
    }

    private sealed class TreeVaeImageSampler(TreeVaeClusterModel model) : IImageConditionSampler
    {
        public int Channels => model.ImageShape![0];

        public int LeafCount => model.K;

        public ImageCondition Draw(IReadOnlyList<Rng> rngs, int? leaf, int height, int width)
        {
            int k = LeafCount, c = Channels, h = model.ImageShape![1], w = model.ImageShape[2], size = c * h * w;
            var leaves = new int[rngs.Count];
            var chosen = new float[rngs.Count][];
            for (int i = 0; i < rngs.Count; i++)
            {
                // One root walk per image from its own generator (A.1), then l ~ π(z_0): the same numbers are drawn
                // whether or not the leaf is fixed, so a fixed leaf changes only the condition.
                var (decodes, pi) = model.Model.Generate(1, rngs[i]);
                int l = Categorical(pi, rngs[i].NextDouble());
                leaves[i] = leaf ?? l;
                chosen[i] = decodes[leaves[i]].Data.ToArray();
            }
            return new ImageCondition(leaves, Frame(chosen, c, h, w, height, width));
        }
    }
}
