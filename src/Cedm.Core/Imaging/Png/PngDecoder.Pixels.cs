namespace Cedm.Imaging.Png;

public static partial class PngDecoder
{
    // ---- Filtering (section 9) and pixel expansion (sections 8.2, 11.2.3, 11.3.2.1, 13.12) -------------------

    private static PngImage Reconstruct(byte[] raw, Chunks c, string name)
    {
        var h = c.Header;
        int outChannels = h.ColorType switch
        {
            PngHeader.Gray => c.Transparency is null ? 1 : 2,
            PngHeader.GrayAlpha => 2,
            PngHeader.Rgb => c.Transparency is null ? 3 : 4,
            PngHeader.Palette => c.Transparency is null ? 3 : 4,
            _ => 4,
        };
        long samples = (long)h.Width * h.Height * outChannels;
        if (samples > Array.MaxLength) throw Error(name, $"image {h.Width}x{h.Height}x{outChannels} is too large for one buffer");
        var out8 = new byte[samples];
        var out16 = h.BitDepth == 16 ? new ushort[samples] : null;
        var expander = new PixelExpander(h, c.Palette, c.Transparency, outChannels, out8, out16, name);

        int offset = 0;
        foreach (var pass in h.Interlaced ? InterlacePass.Adam7 : InterlacePass.None)
        {
            int w = pass.Width(h.Width), rows = pass.Height(h.Height);
            if (w == 0 || rows == 0) continue; // empty passes carry no filter bytes (section 8.2)
            int rowBytes = (int)h.RowBytes(w);
            var previous = new byte[rowBytes]; // the row above the first row is all zeros (section 9.2)
            var current = new byte[rowBytes];
            for (int j = 0; j < rows; j++)
            {
                int filter = raw[offset];
                raw.AsSpan(offset + 1, rowBytes).CopyTo(current);
                offset += 1 + rowBytes;
                Unfilter(filter, current, previous, h.FilterStride, name);
                expander.Row(current, pass, j, w);
                (previous, current) = (current, previous);
            }
        }
        return new PngImage(h.Width, h.Height, outChannels, out8, out16);
    }

    /// <summary>Undoes one scanline's filter in place (section 9.2, filter method 0, types 0..4).</summary>
    private static void Unfilter(int filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp, string name)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1: // Sub: Recon(x) = Filt(x) + Recon(a)
                for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp];
                break;
            case 2: // Up: Recon(x) = Filt(x) + Recon(b)
                for (int i = 0; i < row.Length; i++) row[i] += prior[i];
                break;
            case 3: // Average: Recon(x) = Filt(x) + floor((Recon(a) + Recon(b)) / 2)
                for (int i = 0; i < row.Length; i++)
                    row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + prior[i]) >> 1);
                break;
            case 4: // Paeth: Recon(x) = Filt(x) + PaethPredictor(a, b, c)
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = prior[i], cc = i >= bpp ? prior[i - bpp] : 0;
                    row[i] += (byte)Paeth(a, b, cc);
                }
                break;
            default:
                throw Error(name, $"invalid filter type {filter} (expected 0..4)");
        }
    }

    /// <summary>The Paeth predictor of section 9.4: whichever of a, b, c is closest to a + b - c (ties a, b, c).</summary>
    internal static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Turns reconstructed scanlines into 8-bit (and 16-bit) output samples at their image positions.</summary>
    private sealed class PixelExpander(PngHeader h, byte[]? palette, byte[]? trns, int outChannels, byte[] out8, ushort[]? out16, string name)
    {
        private readonly int _spp = h.SamplesPerPixel;
        private readonly int _maxSample = (1 << h.BitDepth) - 1;

        public void Row(ReadOnlySpan<byte> row, InterlacePass pass, int j, int passWidth)
        {
            int y = pass.YStart + j * pass.YStep;
            long rowBase = (long)y * h.Width;
            // Fast path: non-interlaced 8-bit data with no palette or tRNS is already the output layout.
            if (pass.XStep == 1 && h.BitDepth == 8 && h.ColorType != PngHeader.Palette && trns is null)
            {
                row.CopyTo(out8.AsSpan((int)(rowBase * outChannels), row.Length));
                return;
            }
            Span<int> px = stackalloc int[4];
            for (int i = 0; i < passWidth; i++)
            {
                int x = pass.XStart + i * pass.XStep;
                for (int s = 0; s < _spp; s++) px[s] = Sample(row, i * _spp + s);
                Write((rowBase + x) * outChannels, px);
            }
        }

        /// <summary>The k-th sample of a scanline, at the file's bit depth (samples are big-endian, MSB first; section 7.2).</summary>
        private int Sample(ReadOnlySpan<byte> row, int k) => h.BitDepth switch
        {
            8 => row[k],
            16 => (row[2 * k] << 8) | row[2 * k + 1],
            _ => (row[k * h.BitDepth / 8] >> (8 - h.BitDepth - k * h.BitDepth % 8)) & _maxSample,
        };

        private void Write(long at, ReadOnlySpan<int> px)
        {
            int o = (int)at;
            switch (h.ColorType)
            {
                case PngHeader.Palette:
                    int index = px[0];
                    if (index * 3 >= palette!.Length) throw Error(name, $"palette index {index} out of range (PLTE has {palette.Length / 3} entries)");
                    out8[o] = palette[3 * index];
                    out8[o + 1] = palette[3 * index + 1];
                    out8[o + 2] = palette[3 * index + 2];
                    if (outChannels == 4) out8[o + 3] = index < trns!.Length ? trns[index] : (byte)255;
                    break;
                case PngHeader.Gray or PngHeader.Rgb when trns is not null:
                    // tRNS names one colour (at the file's bit depth) that is fully transparent (section 11.3.2.1).
                    bool transparent = true;
                    for (int s = 0; s < _spp; s++)
                    {
                        Put(o + s, px[s]);
                        transparent &= px[s] == ((trns[2 * s] << 8) | trns[2 * s + 1]);
                    }
                    Put(o + _spp, transparent ? 0 : _maxSample);
                    break;
                default:
                    for (int s = 0; s < _spp; s++) Put(o + s, px[s]);
                    break;
            }
        }

        /// <summary>Stores one sample, scaled to 8 bits (and kept exact in 16 bits when the file is 16-bit).</summary>
        private void Put(int o, int v)
        {
            if (out16 is not null)
            {
                out16[o] = (ushort)v;
                out8[o] = (byte)((v * 255 + 32767) / 65535);
            }
            else
            {
                // Low bit depths map linearly onto 0..255 (section 13.12): 1 -> 255, 3 -> 85, 15 -> 17.
                out8[o] = (byte)(h.BitDepth == 8 ? v : v * 255 / _maxSample);
            }
        }
    }
}
