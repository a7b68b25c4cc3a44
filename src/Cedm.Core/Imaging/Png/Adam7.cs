namespace Cedm.Imaging.Png;

/// <summary>
/// The Adam7 interlace passes (PNG spec section 8.2): pass p holds the pixels at
/// x = XStart + i * XStep, y = YStart + j * YStep. A non-interlaced image is the single pass (0, 0, 1, 1).
/// </summary>
internal readonly record struct InterlacePass(int XStart, int YStart, int XStep, int YStep)
{
    public static readonly InterlacePass[] Adam7 =
    [
        new(0, 0, 8, 8), new(4, 0, 8, 8), new(0, 4, 4, 8), new(2, 0, 4, 4),
        new(0, 2, 2, 4), new(1, 0, 2, 2), new(0, 1, 1, 2),
    ];

    public static readonly InterlacePass[] None = [new(0, 0, 1, 1)];

    /// <summary>Pixels per row of this pass in an image <paramref name="width"/> wide (0 means the pass is empty).</summary>
    public int Width(int width) => width <= XStart ? 0 : (width - XStart + XStep - 1) / XStep;

    public int Height(int height) => height <= YStart ? 0 : (height - YStart + YStep - 1) / YStep;
}
