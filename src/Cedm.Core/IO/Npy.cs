using System.Buffers.Binary;
using System.Text;

namespace Cedm.IO;

/// <summary>
/// Reads and writes NumPy .npy files (format spec: numpy/lib/format.py, "NEP 1").
/// Layout: magic <c>\x93NUMPY</c>, major/minor version bytes, header length (uint16 LE in v1.0,
/// uint32 LE in v2.0/3.0), a Python-literal dict header (latin-1; UTF-8 in v3.0) padded with spaces and a
/// newline so the data starts on a 64-byte boundary, then the raw elements.
/// <para>Supported: versions 1.0/2.0/3.0; dtypes bool, int8/16/32/64, uint8/16/32, float16/32/64; C order
/// (Fortran order only when it is the same layout, i.e. 0-d and 1-d). Big-endian files (<c>'&gt;f4'</c>) are
/// converted to native order on read. Rejected with a clear message: Fortran order (≥2-d), object arrays
/// (pickles), structured/string/complex/datetime dtypes.</para>
/// <para>Writes use version 1.0 (enough for any ≤64-d numeric array), produce the same bytes as <c>np.save</c>, and are
/// atomic for paths. Every error is a <see cref="InvalidDataException"/> whose message starts with the file name.</para>
/// </summary>
public static class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Headers of real numeric arrays are ~128 bytes; this cap stops a corrupt length from allocating.</summary>
    internal const int MaxHeaderBytes = 1 << 20;

    private const int ArrayAlign = 64; // numpy.lib.format.ARRAY_ALIGN

    /// <summary>NumPy's NPY_MAXDIMS; the reader rejects more, so the writer does too.</summary>
    internal const int MaxDims = 64;

    /// <summary>Reads a whole .npy file; trailing bytes after the data are an error.</summary>
    public static NpyArray Read(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        // The path as the user gave it: two feats.npy in different folders must be told apart.
        string name = path;
        NpyArray a = Read(fs, name);
        long extra = fs.Length - fs.Position;
        if (extra != 0) throw FormatError.Of(name, $"{extra} unexpected bytes after the array data (file is {fs.Length} bytes)");
        return a;
    }

    /// <summary>
    /// Reads one array from <paramref name="s"/>, leaving a seekable stream positioned after the data
    /// (a non-seekable stream is consumed to its end first, see <see cref="RawBytes.Seekable"/>).
    /// <paramref name="name"/> is only used in error messages.
    /// </summary>
    public static NpyArray Read(Stream s, string name)
    {
        ArgumentNullException.ThrowIfNull(s);
        s = RawBytes.Seekable(s);
        InvalidDataException Fail(string problem) => FormatError.Of(name, problem);
        long available = s.Length - s.Position;

        Span<byte> prefix = stackalloc byte[12];
        int got = RawBytes.ReadUpTo(s, prefix[..8]);
        int magicLen = Math.Min(got, 6);
        if (!prefix[..magicLen].SequenceEqual(Magic[..magicLen]))
            throw Fail("not a .npy file (missing the \\x93NUMPY magic string)");
        if (got < 8) throw Fail($"truncated: only {available} bytes, too short for a .npy header");
        byte major = prefix[6], minor = prefix[7];
        int lenSize = (major, minor) switch
        {
            (1, 0) => 2,
            (2, 0) or (3, 0) => 4,
            _ => throw Fail($"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"),
        };
        if (RawBytes.ReadUpTo(s, prefix.Slice(8, lenSize)) < lenSize)
            throw Fail($"truncated: only {available} bytes, too short for a .npy header");
        long headerLen = lenSize == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        long prefixLen = 8 + lenSize;
        if (headerLen > available - prefixLen)
            throw Fail($"truncated: header declares {headerLen} bytes but only {available - prefixLen} follow");
        if (headerLen > MaxHeaderBytes)
            throw Fail($"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit (numeric arrays need ~128)");

        var headerBytes = new byte[headerLen];
        s.ReadExactly(headerBytes);
        string text;
        try
        {
            text = major == 3
                ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes)
                : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException e)
        {
            throw FormatError.Of(name, "header is not valid UTF-8", e);
        }
        NpyHeader h = NpyHeader.Parse(text, Fail);

        (DType dtype, bool bigEndian) = ParseDescr(h.Descr, Fail);
        if (h.FortranOrder && h.Shape.Length > 1)
            throw Fail($"Fortran-ordered arrays are not supported (shape {FileShapes.Format(h.Shape)}); save with np.ascontiguousarray");
        var shape = new int[h.Shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            if (h.Shape[i] > int.MaxValue) throw Fail($"shape {FileShapes.Format(h.Shape)}: dimension {h.Shape[i]} is too large");
            shape[i] = (int)h.Shape[i];
        }
        long count = FileShapes.CheckedCount(h.Shape, Array.MaxLength);
        if (count < 0) throw Fail($"shape {FileShapes.Format(h.Shape)} has too many elements (limit {Array.MaxLength})");
        long dataBytes = count * dtype.Size();
        long left = available - prefixLen - headerLen;
        if (dataBytes > left)
            throw Fail($"truncated: shape {FileShapes.Format(h.Shape)} of {h.Descr} needs {dataBytes} data bytes, but only {left} are present");

        Array data = dtype.NewArray((int)count);
        Span<byte> raw = RawBytes.Of(data, dtype.Size());
        try
        {
            s.ReadExactly(raw);
        }
        catch (EndOfStreamException e)
        {
            throw FormatError.Of(name, $"truncated: data needs {dataBytes} bytes but the stream ended early", e);
        }
        if (bigEndian) RawBytes.SwapInPlace(raw, dtype.Size());
        if (dtype == DType.Bool)
        {
            // NumPy reads any nonzero byte as True; a CLR bool must be exactly 0 or 1.
            for (int i = 0; i < raw.Length; i++) raw[i] = raw[i] != 0 ? (byte)1 : (byte)0;
        }
        return new NpyArray(dtype, shape, data);
    }

    /// <summary>Maps a descr like <c>'&lt;f4'</c>, <c>'|u1'</c>, <c>'&gt;i8'</c> to a dtype and byte order.</summary>
    private static (DType, bool bigEndian) ParseDescr(string descr, Func<string, Exception> fail)
    {
        string code = descr;
        char order = '=';
        if (code.Length > 0 && code[0] is '<' or '>' or '|' or '=')
        {
            order = code[0];
            code = code[1..];
        }
        if (code == "O")
            throw fail("object arrays (dtype 'O') are not supported: they hold pickled Python objects; save a numeric array");
        if (!DTypes.TryParseNumpyCode(code, out DType t))
            throw fail($"unsupported dtype '{descr}' (supported: bool, int8/16/32/64, uint8/16/32, float16/32/64)");
        // '=' means the writer's native order; every platform we run on is little-endian.
        return (t, order == '>' && t.Size() > 1);
    }

    /// <summary>Writes <paramref name="data"/> with the given C-order shape (empty shape = 0-d scalar).</summary>
    public static void Write<T>(string path, T[] data, params int[] shape) where T : unmanaged =>
        Write(path, new NpyArray(DTypes.Of<T>(), shape, data));

    /// <summary>Writes to a stream (not atomic; the caller owns the stream).</summary>
    public static void Write<T>(Stream s, T[] data, params int[] shape) where T : unmanaged =>
        Write(s, new NpyArray(DTypes.Of<T>(), shape, data));

    /// <summary>Writes an array atomically (temp file + rename).</summary>
    public static void Write(string path, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        AtomicFile.Write(path, fs => Write(fs, array));
    }

    public static void Write(Stream s, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(array);
        if (array.Shape.Length > MaxDims)
            throw new ArgumentException($"NumPy arrays have at most {MaxDims} dimensions, got {array.Shape.Length}.", nameof(array));
        string code = array.DType.NumpyCode()!;
        string descr = (array.DType.Size() == 1 ? "|" : "<") + code; // NumPy's dtype.str spelling
        var h = new NpyHeader(descr, false, array.Shape.Select(d => (long)d).ToArray());
        byte[] header = Encoding.ASCII.GetBytes(h.Format());

        // np.save picks 1.0 unless the header exceeds its uint16 length field; with at most 64 dimensions of
        // at most 10 digits the header stays under ~1 KB, so 1.0 always suffices here.
        int padded = PaddedLength(header.Length);
        var prefix = new byte[10 + padded];
        Magic.CopyTo(prefix);
        prefix[6] = 1;
        prefix[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix.AsSpan(8), checked((ushort)padded));
        header.CopyTo(prefix, 10);
        prefix.AsSpan(10 + header.Length).Fill((byte)' ');
        prefix[^1] = (byte)'\n';
        s.Write(prefix);
        s.Write(RawBytes.Of(array.Data, array.DType.Size()));
    }

    /// <summary>Header length including spaces + '\n' so magic+version+length+header is a multiple of 64.</summary>
    private static int PaddedLength(int headerLen)
    {
        int hlen = headerLen + 1;
        int pad = ArrayAlign - ((6 + 2 + 2 + hlen) % ArrayAlign); // magic + version + uint16 length + header
        return hlen + pad;
    }
}
