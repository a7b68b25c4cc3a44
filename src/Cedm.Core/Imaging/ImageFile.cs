using Cedm.Imaging.Png;
using StbImageSharp;

namespace Cedm.Imaging;

/// <summary>
/// Reads one picture file of any format cedm accepts, chosen by its first bytes (not its name): PNG through our own
/// decoder (<see cref="PngDecoder"/>: checked chunk by chunk with CRCs, 16-bit kept exact, hardened by the corruption
/// tests, and faster than stb_image on our data, see docs/data.md); JPEG (baseline and progressive), BMP, GIF (the
/// first frame) and TGA through StbImageSharp 2.30.16, a C# port of stb_image (Unlicense/MIT). The result keeps the
/// file's own channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (GIF always decodes to RGBA); callers drop alpha or
/// repeat gray as they need. Every failure is an <see cref="InvalidDataException"/> whose message starts with the path.
/// </summary>
public static class ImageFile
{
    /// <summary>File-name extensions of the formats <see cref="Decode(string)"/> reads.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        { ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".gif", ".tga" };

    /// <summary>The largest picture accepted, in pixels (a 16k x 16k RGBA image is 1 GiB): a hostile header cannot make us allocate more.</summary>
    public const long MaxPixels = 1L << 28;

    public static PngImage Decode(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new InvalidDataException($"{path}: cannot be read ({e.Message})", e); }
        return Decode(bytes, path);
    }

    public static PngImage Decode(byte[] bytes, string name)
    {
        if (bytes.AsSpan().StartsWith(PngDecoder.Signature) || Path.GetExtension(name).Equals(".png", StringComparison.OrdinalIgnoreCase))
            return PngDecoder.Decode(bytes, name);
        bool jpeg = bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
        if (jpeg) CheckJpegComplete(bytes, name);

        ImageInfo? info;
        try { info = ImageInfo.FromStream(new MemoryStream(bytes, writable: false)); }
        catch (Exception e) when (e is not OutOfMemoryException) { info = null; }
        if (info is not { } header)
            throw new InvalidDataException($"{name}: not a picture cedm reads (PNG, JPEG, BMP, GIF or TGA), or its header is corrupt");
        if (header.Width < 1 || header.Height < 1 || (long)header.Width * header.Height > MaxPixels)
            throw new InvalidDataException($"{name}: header says {header.Width}x{header.Height} pixels, outside 1..{MaxPixels}");

        ImageResult result;
        try { result = ImageResult.FromMemory(bytes, ColorComponents.Default); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{name}: corrupt or unsupported {FormatName(bytes)} data ({e.Message})", e);
        }
        int channels = (int)result.Comp;
        if (result.Data is null || channels is < 1 or > 4 || result.Data.Length != (long)result.Width * result.Height * channels)
            throw new InvalidDataException($"{name}: the decoder returned no usable pixels");
        return new PngImage(result.Width, result.Height, channels, result.Data);
    }

    /// <summary>
    /// Walks the JPEG's marker segments up to the first start-of-scan (FF DA) and checks that each declared length
    /// stays inside the file and that a frame header (SOFn) came first: StbImageSharp can spin forever on a segment
    /// length pointing past the end (found by the corruption test: one flipped byte in APP0's length). Then checks the
    /// end: stb_image decodes a truncated JPEG without complaint, filling the missing part with gray; a whole JPEG ends
    /// its last scan with the EOI marker (FF D9), and inside entropy-coded data a 0xFF byte is always followed by 00 or a
    /// restart marker (D0-D7), so an FF D9 after the first start-of-scan can only be the real end.
    /// </summary>
    private static void CheckJpegComplete(byte[] b, string name)
    {
        int pos = 2;
        bool frame = false;
        while (true)
        {
            if (pos >= b.Length || b[pos] != 0xFF) throw new InvalidDataException($"{name}: truncated or corrupt JPEG (no marker at byte {pos})");
            while (pos < b.Length && b[pos] == 0xFF) pos++;   // fill bytes
            if (pos >= b.Length) throw new InvalidDataException($"{name}: truncated JPEG (ends inside the headers)");
            byte m = b[pos++];
            if (m == 0x01 || m is >= 0xD0 and <= 0xD7) continue;   // stand-alone markers: no length
            if (m == 0xD9 || m == 0xD8) throw new InvalidDataException($"{name}: corrupt JPEG (marker FF {m:X2} before the first scan)");
            if (pos + 2 > b.Length) throw new InvalidDataException($"{name}: truncated JPEG (ends inside the headers)");
            int length = (b[pos] << 8) | b[pos + 1];
            if (length < 2 || pos + length > b.Length)
                throw new InvalidDataException($"{name}: truncated or corrupt JPEG (segment FF {m:X2} at byte {pos - 2} declares {length} bytes, {b.Length - pos} remain)");
            if (m is >= 0xC0 and <= 0xCF && m is not (0xC4 or 0xC8 or 0xCC)) frame = true;
            if (m == 0xDA)
            {
                if (!frame) throw new InvalidDataException($"{name}: corrupt JPEG (a scan before any frame header)");
                break;
            }
            pos += length;
        }
        if (b.AsSpan(pos).IndexOf([(byte)0xFF, (byte)0xD9]) < 0)
            throw new InvalidDataException($"{name}: truncated JPEG (no end-of-image marker after the scan)");
    }

    private static string FormatName(byte[] b) =>
        b.Length >= 2 && b[0] == 0xFF && b[1] == 0xD8 ? "JPEG"
        : b.Length >= 2 && b[0] == (byte)'B' && b[1] == (byte)'M' ? "BMP"
        : b.Length >= 3 && b[0] == (byte)'G' && b[1] == (byte)'I' && b[2] == (byte)'F' ? "GIF"
        : "TGA";
}
