namespace Cedm.Imaging.Png;

/// <summary>
/// A decoded PNG as interleaved samples, row-major [Height, Width, Channels]. Channels is 1 (gray),
/// 2 (gray+alpha), 3 (RGB) or 4 (RGBA); palettes are expanded to RGB(A) and tRNS to an alpha channel.
/// <see cref="Pixels"/> always holds 8-bit samples; for 16-bit files <see cref="Pixels16"/> keeps the
/// exact values and <see cref="Pixels"/> holds them rounded to 8 bits (v * 255 / 65535).
/// </summary>
public sealed class PngImage
{
    public PngImage(int width, int height, int channels, byte[] pixels, ushort[]? pixels16 = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), channels, "expected 1..4");
        long n = (long)width * height * channels;
        if (pixels.Length != n) throw new ArgumentException($"pixels has {pixels.Length} samples, expected {height}x{width}x{channels} = {n}", nameof(pixels));
        if (pixels16 is not null && pixels16.Length != n) throw new ArgumentException($"pixels16 has {pixels16.Length} samples, expected {n}", nameof(pixels16));
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
        Pixels16 = pixels16;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }

    /// <summary>8-bit samples [Height, Width, Channels].</summary>
    public byte[] Pixels { get; }

    /// <summary>Exact 16-bit samples [Height, Width, Channels] when the file had bit depth 16, else null.</summary>
    public ushort[]? Pixels16 { get; }
}
