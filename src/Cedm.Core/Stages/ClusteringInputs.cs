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
        int c = data.Channels, hw = data.Height * data.Width, size = data.ImageSize;
        var x = new float[(long)data.Count * size];
        var pixels = data.Pixels;
        // Pixels are stored [N, H, W, C]; rows are laid out [C, H, W] like every tensor image here.
        for (long i = 0; i < data.Count; i++)
            for (int p = 0; p < hw; p++)
                for (int ch = 0; ch < c; ch++) x[i * size + (long)ch * hw + p] = pixels[i * size + (long)p * c + ch] / 255f;
        return new Tensor(x, data.Count, data.ImageSize);
    }

    /// <summary>How the record names the input: a features file by its full path, a data source as given.</summary>
    public static string Describe(string input, string method) => IsSource(input, method) ? input : Path.GetFullPath(input);
}
