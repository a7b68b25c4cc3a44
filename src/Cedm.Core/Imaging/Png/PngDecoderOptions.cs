namespace Cedm.Imaging.Png;

/// <summary>Safety limits of <see cref="PngDecoder"/>: a file that declares more is rejected before any large allocation.</summary>
public sealed record PngDecoderOptions
{
    /// <summary>Largest accepted Width x Height (default 2^28 pixels, e.g. 16384 x 16384).</summary>
    public long MaxPixels { get; init; } = 1L << 28;

    public static PngDecoderOptions Default { get; } = new();
}
