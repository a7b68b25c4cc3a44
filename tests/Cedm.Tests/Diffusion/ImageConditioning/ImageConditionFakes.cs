using Cedm.Data;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Tensors;

namespace Cedm.Tests.Diffusion.ImageConditioning;

/// <summary>
/// A training source standing in for a TreeVAE: each row's leaf is its dataset label's index (labels 5, 15, 25 of
/// <see cref="TrainingTestData.Patterns"/> → 0, 1, 2) and its condition image is the clean image itself, or all zeros.
/// One uniform is drawn per row, as a leaf draw l ~ P(·|x) would, so the run generator's coupling is exercised.
/// </summary>
internal sealed class DatasetImageSource(ImageDataset data, bool zeros = false) : IImageConditionSource
{
    public int Channels => data.Channels;

    public int LeafCount => 3;

    public List<int[]> Calls { get; } = [];

    public ImageCondition Draw(IReadOnlyList<int> rows, Rng rng)
    {
        Calls.Add(rows.ToArray());
        int size = data.ImageSize;
        var images = new float[rows.Count * size];
        var leaves = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            rng.NextDouble();
            leaves[i] = (int)(data.Labels![rows[i]] / 10);
            if (!zeros) data.ToTrainingRange(rows[i], 1, images.AsSpan(i * size, size));
        }
        return new ImageCondition(leaves, new Tensor(images, rows.Count, data.Channels, data.Height, data.Width));
    }

    public ImageConditionConfig Describe() => new() { Kind = "test-dataset", Source = data.Name, Channels = Channels, LeafCount = LeafCount };
}

/// <summary>
/// A sampling-time source: one uniform per image picks its leaf (or the fixed leaf, with the uniform still drawn), and
/// the condition is that leaf's pattern (<see cref="TrainingTestData.Pattern"/>) in [−1, 1].
/// </summary>
internal sealed class PatternSampler(int leafCount = 3, int channels = 1) : IImageConditionSampler
{
    public int Channels => channels;

    public int LeafCount => leafCount;

    public ImageCondition Draw(IReadOnlyList<Rng> rngs, int? leaf, int height, int width)
    {
        var leaves = new int[rngs.Count];
        var images = new float[rngs.Count * channels * height * width];
        int plane = height * width;
        for (int i = 0; i < rngs.Count; i++)
        {
            double u = rngs[i].NextDouble();
            leaves[i] = leaf ?? Math.Min((int)(u * leafCount), leafCount - 1);
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                        images[(i * channels + c) * plane + y * width + x] = TrainingTestData.Pattern(leaves[i], x, y, width) / 127.5f - 1f;
        }
        return new ImageCondition(leaves, new Tensor(images, rngs.Count, channels, height, width));
    }
}
