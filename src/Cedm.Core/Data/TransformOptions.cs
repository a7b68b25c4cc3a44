namespace Cedm.Data;

/// <summary>How images are brought to the size a model wants; applied once, when a source is loaded.</summary>
public sealed record TransformOptions
{
    /// <summary>
    /// Side of the square output in pixels, or null to keep the stored size. The shorter side is scaled to
    /// it (area averaging when shrinking, bilinear when enlarging), then the centre is cropped.
    /// </summary>
    public int? Resolution { get; init; }

    /// <summary>Pixels added on every side after resizing (2 turns 28x28 into 32x32 for a U-Net that halves 3 times).</summary>
    public int Pad { get; init; }

    /// <summary>Value of the padding pixels, uint8 (0 is black, -1 in the training range).</summary>
    public byte PadValue { get; init; }

    public static TransformOptions None { get; } = new();

    public bool IsIdentity => Resolution is null && Pad == 0;

    /// <summary>The (height, width) an image of the given size has after these transforms.</summary>
    public (int Height, int Width) OutputSize(int height, int width)
    {
        var (h, w) = Resolution is int r ? (r, r) : (height, width);
        return (h + 2 * Pad, w + 2 * Pad);
    }

    public void Validate()
    {
        // Plain ArgumentException messages: the CLI prints them as one line naming the option.
        if (Resolution is < 1 or > 8192) throw new ArgumentException($"must be between 1 and 8192 pixels, got {Resolution}", nameof(Resolution));
        if (Pad is < 0 or > 1024) throw new ArgumentException($"must be between 0 and 1024 pixels, got {Pad}", nameof(Pad));
    }
}
