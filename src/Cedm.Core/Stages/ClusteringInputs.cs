using Cedm.Clustering;
using Cedm.Data;
using Cedm.Features;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>
/// What `cedm cluster` clusters: a features .npy [N, D] for every method; for a method that clusters images
/// (<see cref="ClusteringMethods.TakesImages"/>, TreeVAE) also a data source, whose images become rows of pixels in
/// [0, 1] ([N, C·H·W]) with their [C, H, W] kept.
/// </summary>
public static class ClusteringInputs
{
    /// <summary>Whether <paramref name="input"/> names a data source rather than a features file.</summary>
    public static bool IsSource(string input, string method) =>
        ClusteringMethods.TakesImages(method)
        && (input.StartsWith("npy:", StringComparison.Ordinal) || !input.EndsWith(".npy", StringComparison.OrdinalIgnoreCase));

    public static (Tensor X, int[]? ImageShape) Read(string input, string method)
    {
        if (!IsSource(input, method)) return (FeatureFile.ReadMatrix(input), null);
        var data = DataSource.Load(input);
        return (Pixels(data), [data.Channels, data.Height, data.Width]);
    }

    /// <summary>A dataset's images as rows [N, C·H·W] of pixels in [0, 1].</summary>
    public static Tensor Pixels(ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Pixels(data, Enumerable.Range(0, data.Count).ToArray(), data.Height, data.Width);
    }

    /// <summary>
    /// Images <paramref name="rows"/> of a dataset as rows [rows, C·h·w] of pixels in [0, 1], each cut to its centred
    /// <paramref name="height"/>×<paramref name="width"/> window (a padded image back to the size a model was fitted on).
    /// </summary>
    public static Tensor Pixels(ImageDataset data, IReadOnlyList<int> rows, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(rows);
        if (height > data.Height || width > data.Width) throw new ArgumentException($"a {height}x{width} window does not fit {data.Height}x{data.Width} images");
        int c = data.Channels, size = c * height * width, top = (data.Height - height) / 2, left = (data.Width - width) / 2;
        var x = new float[(long)rows.Count * size];
        // Pixels are stored [N, H, W, C]; rows are laid out [C, H, W] like every tensor image here.
        for (int r = 0; r < rows.Count; r++)
        {
            var image = data.Image(rows[r]);
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < height; y++)
                    for (int xx = 0; xx < width; xx++)
                        x[(long)r * size + (ch * height + y) * width + xx] = image[((top + y) * data.Width + left + xx) * c + ch] / 255f;
        }
        return new Tensor(x, rows.Count, size);
    }

    /// <summary>How the record names the input: a features file by its full path, a data source as given.</summary>
    public static string Describe(string input, string method) => IsSource(input, method) ? input : Path.GetFullPath(input);
}
