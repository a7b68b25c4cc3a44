using Cedm.Clustering;
using Cedm.Clustering.TreeVae;
using Cedm.Data;
using Cedm.Imaging.Png;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>Pictures of a TreeVAE: <paramref name="Images"/> laid out as <paramref name="Rows"/> (indices into it) and the
/// leaf probabilities behind them ([rows, leaves]: π(z_0) of each root draw, or P(l|x) of each real image).</summary>
public sealed record TreeVaeSheet(ImageDataset Images, IReadOnlyList<IReadOnlyList<int>> Rows, float[] LeafProbabilities, int Leaves)
{
    public PngImage Grid() => ImageGrid.Compose(Images, Rows, new GridOptions { Scale = Images.Height < 64 ? 2 : 1 });
}

/// <summary>
/// Generation from a TreeVAE cluster folder (related-seeds A.1, A′.1): <see cref="Generate"/> draws z_0 and decodes
/// every leaf, one grid row per root draw and one column per leaf ("sample_all_leaves"); <see cref="Reconstruct"/>
/// passes real images through the tree, one row per image: the image, then its decode at every leaf.
/// </summary>
public static class TreeVaeImages
{
    public static TreeVaeClusterModel LoadModel(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: no such folder (expected a `cedm cluster --method treevae` output)");
        var model = ClusterModels.Load(dir) as TreeVaeClusterModel
            ?? throw new SettingException("Model", $"{dir}: not a TreeVAE clustering (its model.safetensors is another method's)");
        if (model.ImageShape is null) throw new SettingException("Model", $"{dir}: this TreeVAE was fitted on features, not images; it has no pictures to draw");
        return model;
    }

    public static TreeVaeSheet Generate(TreeVaeClusterModel model, int n, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (n is < 1 or > 4096) throw new SettingException("N", $"must be in 1..4096 root draws, got {n}");
        var (decodes, pi) = model.Model.Generate(n, new Rng(seed));
        int leaves = decodes.Length;
        var images = ToImages(model, decodes, n, [], "treevae-generate");
        var rows = Enumerable.Range(0, n).Select(i => (IReadOnlyList<int>)Enumerable.Range(0, leaves).Select(l => i * leaves + l).ToArray()).ToList();
        return new TreeVaeSheet(images, rows, pi, leaves);
    }

    /// <summary>
    /// The TreeVAE as a generator (A.1): per root draw one image, its leaf drawn from π(z_0), in batches of 1 024.
    /// Returns the images [n] (labels = the leaf drawn) for metrics against data.
    /// </summary>
    public static ImageDataset Draw(TreeVaeClusterModel model, int n, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (n is < 1 or > 10_000_000) throw new SettingException("N", $"must be in 1..1e7 images, got {n}");
        var rng = new Rng(seed);
        int size = model.Model.InputDim;
        var rows = new float[n][];
        var leafOf = new long[n];
        for (int start = 0; start < n; start += 1024)
        {
            int b = Math.Min(1024, n - start);
            var (decodes, pi) = model.Model.Generate(b, rng);
            int k = decodes.Length;
            for (int i = 0; i < b; i++)
            {
                int l = TreeVaeConditions.Categorical(pi.AsSpan(i * k, k), rng.NextDouble());
                leafOf[start + i] = l;
                rows[start + i] = decodes[l].Data.AsSpan(i * size, size).ToArray();
            }
        }
        var images = ToImages(model, [new Tensor(rows.SelectMany(r => r).ToArray(), n, size)], n, [], "treevae-draw");
        return new ImageDataset(images.Name, images.Pixels, n, images.Height, images.Width, images.Channels, leafOf);
    }

    public static TreeVaeSheet Reconstruct(TreeVaeClusterModel model, ImageDataset data, int n, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var shape = model.ImageShape!;
        if (data.Channels != shape[0] || data.Height != shape[1] || data.Width != shape[2])
            throw new SettingException("Source", $"{data.Name}: images are {data.Channels}x{data.Height}x{data.Width}; the TreeVAE was fitted on {shape[0]}x{shape[1]}x{shape[2]}");
        if (n is < 1 or > 4096) throw new SettingException("N", $"must be in 1..4096 images, got {n}");
        n = Math.Min(n, data.Count);
        var pick = ImageGrid.Sample(Enumerable.Range(0, data.Count).ToArray(), n, new Random(seed));
        var originals = data.Select(pick);
        var x = ClusteringInputs.Pixels(originals);
        var (decodes, probs) = model.Model.Reconstruct(x, new Rng(seed));
        int leaves = decodes.Length;
        var images = ToImages(model, decodes, n, originals.Pixels, "treevae-reconstruct");
        // Rows: original i (stored after the decodes), then its leaf decodes.
        var rows = Enumerable.Range(0, n).Select(i => (IReadOnlyList<int>)Enumerable.Range(0, leaves).Select(l => i * leaves + l).Prepend(n * leaves + i).ToArray()).ToList();
        return new TreeVaeSheet(images, rows, probs, leaves);
    }

    /// <summary>Decodes [leaves][n, C·H·W] in [0, 1] as uint8 images ordered (row, leaf), followed by <paramref name="extra"/> pixels.</summary>
    private static ImageDataset ToImages(TreeVaeClusterModel model, Tensor[] decodes, int n, byte[] extra, string name)
    {
        int c = model.ImageShape![0], h = model.ImageShape[1], w = model.ImageShape[2], size = c * h * w, leaves = decodes.Length;
        var pixels = new byte[(long)n * leaves * size + extra.Length];
        for (int i = 0; i < n; i++)
            for (int l = 0; l < leaves; l++)
            {
                var d = decodes[l].Data;
                long dst = ((long)i * leaves + l) * size;
                for (int ch = 0; ch < c; ch++)
                    for (int p = 0; p < h * w; p++)
                    {
                        // Probabilities (Bernoulli) or Gaussian means, clamped to the pixel range either way.
                        pixels[dst + (long)p * c + ch] = (byte)Math.Clamp(MathF.Round(d[(long)i * size + ch * h * w + p] * 255f), 0f, 255f);
                    }
            }
        extra.CopyTo(pixels, (long)n * leaves * size);
        int count = n * leaves + extra.Length / size;
        var labels = Enumerable.Range(0, count).Select(j => j < n * leaves ? (long)(j % leaves) : -1L).ToArray();
        return new ImageDataset(name, pixels, count, h, w, c, labels);
    }
}
