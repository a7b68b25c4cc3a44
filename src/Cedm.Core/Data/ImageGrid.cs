using Cedm.Imaging.Png;

namespace Cedm.Data;

/// <summary>Layout of a grid picture.</summary>
public sealed record GridOptions
{
    /// <summary>Pixels between cells and around the border.</summary>
    public int Padding { get; init; } = 2;

    /// <summary>Value of the padding and of empty cells (mid-gray separates both dark and light images).</summary>
    public byte Background { get; init; } = 128;

    /// <summary>Integer upscaling of every image (nearest neighbour), for small images such as 28x28.</summary>
    public int Scale { get; init; } = 1;
}

/// <summary>
/// Sample sheets: images laid out in rows with padding, as one picture (then <see cref="PngEncoder"/>).
/// Used for `cedm data grid`, sample grids and per-cluster sheets (one row per cluster).
/// </summary>
public static class ImageGrid
{
    /// <summary>All images of <paramref name="images"/>, row-major, <paramref name="columns"/> per row.</summary>
    public static PngImage Compose(ImageDataset images, int columns, GridOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        var rows = Enumerable.Range(0, (images.Count + columns - 1) / columns)
            .Select(r => (IReadOnlyList<int>)Enumerable.Range(r * columns, Math.Min(columns, images.Count - r * columns)).ToArray())
            .ToList();
        return Compose(images, rows, options);
    }

    /// <summary>
    /// One grid row per entry of <paramref name="rows"/> (indices into <paramref name="images"/>); the grid is as
    /// wide as the longest row and shorter rows end in empty cells.
    /// </summary>
    public static PngImage Compose(ImageDataset images, IReadOnlyList<IReadOnlyList<int>> rows, GridOptions? options = null)
    {
        options ??= new GridOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Padding);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Scale, 1);
        if (rows.Count == 0) throw new ArgumentException("a grid needs at least one row", nameof(rows));
        int columns = Math.Max(1, rows.Max(r => r.Count));
        int cellH = images.Height * options.Scale, cellW = images.Width * options.Scale, c = images.Channels, pad = options.Padding;
        int gridW = columns * (cellW + pad) + pad, gridH = rows.Count * (cellH + pad) + pad;
        if ((long)gridW * gridH > 1L << 28) throw new ArgumentException($"grid of {gridH}x{gridW} pixels is too large; use fewer images");

        var pixels = new byte[gridW * gridH * c];   // [gridH, gridW, C]
        pixels.AsSpan().Fill(options.Background);
        for (int r = 0; r < rows.Count; r++)
            for (int k = 0; k < rows[r].Count; k++)
            {
                var image = images.Image(rows[r][k]);   // [H, W, C]
                int top = pad + r * (cellH + pad), left = pad + k * (cellW + pad);
                for (int y = 0; y < cellH; y++)
                    for (int x = 0; x < cellW; x++)
                        image.Slice(((y / options.Scale) * images.Width + x / options.Scale) * c, c)
                            .CopyTo(pixels.AsSpan(((top + y) * gridW + left + x) * c));
            }
        return new PngImage(gridW, gridH, c, pixels);
    }

    /// <summary>
    /// For each distinct label (in increasing order), up to <paramref name="perRow"/> indices of images with that
    /// label, drawn without replacement with <paramref name="rng"/> and kept in dataset order.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> RowsByLabel(long[] labels, int perRow, Random rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perRow, 1);
        return labels.Select((label, index) => (label, index))
            .GroupBy(t => t.label)
            .OrderBy(g => g.Key)
            .Select(g => (IReadOnlyList<int>)Sample(g.Select(t => t.index).ToArray(), perRow, rng))
            .ToList();
    }

    /// <summary>Up to <paramref name="n"/> of <paramref name="indices"/> without replacement, in increasing order (partial Fisher-Yates).</summary>
    public static int[] Sample(int[] indices, int n, Random rng)
    {
        var pool = (int[])indices.Clone();
        n = Math.Min(n, pool.Length);
        for (int i = 0; i < n; i++)
        {
            int j = rng.Next(i, pool.Length);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..n].Order().ToArray();
    }
}
