using Cedm.Data;
using Cedm.Diffusion.Networks;
using Cedm.Diffusion.Training;

namespace Cedm.Tests.Diffusion;

/// <summary>Small networks and datasets for training tests.</summary>
internal static class TrainingTestData
{
    /// <summary>An 8×8×1 SongUNet with two levels, one block each, no attention, dropout on (so dropout draws matter).</summary>
    public static SongUNetOptions Micro(int labelDim, int resolution = 8, float dropout = 0.1f) => new()
    {
        Resolution = resolution, InChannels = 1, OutChannels = 1, LabelDim = labelDim, ModelChannels = 8,
        ChannelMult = [1, 2], NumBlocks = 1, AttnResolutions = [], Dropout = dropout,
    };

    /// <summary>Patterns per label: 0 = left half bright, 1 = top half bright, 2 = checkerboard (2×2 cells); small noise.</summary>
    public static ImageDataset Patterns(int perLabel, int labels = 3, int side = 8, int seed = 0)
    {
        var rng = new Random(seed);
        int n = perLabel * labels;
        var pixels = new byte[n * side * side];
        var ids = new long[n];
        for (int i = 0; i < n; i++)
        {
            int label = i % labels;
            ids[i] = label * 10 + 5;                       // non-contiguous raw ids: compaction must map them to 0..K−1
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                    pixels[i * side * side + y * side + x] = (byte)Math.Clamp(Pattern(label, x, y, side) + rng.Next(-10, 11), 0, 255);
        }
        return new ImageDataset("patterns", pixels, n, side, side, 1, ids);
    }

    public static int Pattern(int label, int x, int y, int side) => label switch
    {
        0 => x < side / 2 ? 230 : 25,
        1 => y < side / 2 ? 230 : 25,
        _ => ((x / 2) + (y / 2)) % 2 == 0 ? 230 : 25,
    };

    /// <summary>
    /// <see cref="Patterns"/> written as images.npy and labels.npy into <paramref name="dir"/>; returns the CLI source
    /// `npy:&lt;images&gt;,&lt;labels&gt;`.
    /// </summary>
    public static string WritePatternsSource(string dir, int perLabel)
    {
        var data = Patterns(perLabel);
        string images = Path.Combine(dir, "images.npy"), labels = Path.Combine(dir, "labels.npy");
        Cedm.IO.Npy.Write(images, data.Pixels, data.Count, 8, 8);
        Cedm.IO.Npy.Write(labels, data.Labels!, data.Count);
        return $"npy:{images},{labels}";
    }

    public static TrainingOptions Options(double kimg, int batch = 8) => new()
    {
        Batch = batch, Kimg = kimg, CheckpointKimg = 1000, LogKimg = 0.016, Seed = 3, LrRampupKimg = 0.05, EmaHalflifeKimg = 0.05,
    };
}
