namespace Cedm.Imaging.Png;

/// <summary>
/// The IHDR fields (PNG spec section 11.2.2) and what follows from them: samples per pixel and the byte
/// length of a filtered scanline.
/// </summary>
internal readonly record struct PngHeader(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
{
    // Colour types, PNG spec table 11.1.
    public const int Gray = 0, Rgb = 2, Palette = 3, GrayAlpha = 4, Rgba = 6;

    /// <summary>Samples stored per pixel in the image data (a palette index counts as one).</summary>
    public int SamplesPerPixel => ColorType switch { Gray => 1, Rgb => 3, Palette => 1, GrayAlpha => 2, _ => 4 };

    /// <summary>Bytes per complete pixel, rounded up to 1: the "bpp" of the filter functions (section 9.2).</summary>
    public int FilterStride => Math.Max(1, SamplesPerPixel * BitDepth / 8);

    /// <summary>Bytes of one scanline of <paramref name="width"/> pixels, without the filter-type byte.</summary>
    public long RowBytes(int width) => ((long)width * SamplesPerPixel * BitDepth + 7) / 8;

    /// <summary>Whether (colour type, bit depth) is one of the combinations allowed by table 11.1.</summary>
    public static bool IsValidCombination(int colorType, int bitDepth) => colorType switch
    {
        Gray => bitDepth is 1 or 2 or 4 or 8 or 16,
        Palette => bitDepth is 1 or 2 or 4 or 8,
        Rgb or GrayAlpha or Rgba => bitDepth is 8 or 16,
        _ => false,
    };
}
