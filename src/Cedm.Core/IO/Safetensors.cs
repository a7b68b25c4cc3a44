using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cedm.IO;

/// <summary>
/// Reads and writes .safetensors files (github.com/huggingface/safetensors): an 8-byte little-endian uint64
/// header length N, N bytes of UTF-8 JSON header (see <see cref="SafetensorsHeader"/>), then the byte buffer
/// with little-endian, C-order tensor data.
/// <para>Reading converts float dtypes to float32 (F16 via <see cref="Half"/>, BF16 by a 16-bit shift, F64 by
/// rounding) and keeps exact int64 copies of integer/BOOL tensors. The header is fully validated before any
/// tensor memory is allocated, and the data is streamed once, in file order. Errors are
/// <see cref="InvalidDataException"/>s whose message starts with the file name.</para>
/// <para>Writing follows the reference writer: tensors ordered by dtype then name, header JSON padded with
/// spaces to a multiple of 8 so the buffer stays 8-byte aligned, data contiguous, atomic for paths.</para>
/// </summary>
public static class Safetensors
{
    /// <summary>The reference implementation's limit (MAX_HEADER_SIZE = 100 000 000).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static SafetensorsFile Read(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(fs, path);
    }

    /// <summary>Reads from the stream's current position to its end. <paramref name="name"/> is for messages.</summary>
    public static SafetensorsFile Read(Stream s, string name)
    {
        ArgumentNullException.ThrowIfNull(s);
        s = RawBytes.Seekable(s);
        InvalidDataException Fail(string problem) => FormatError.Of(name, problem);
        long available = s.Length - s.Position;

        Span<byte> lenBytes = stackalloc byte[8];
        if (RawBytes.ReadUpTo(s, lenBytes) < 8)
            throw Fail($"truncated: only {available} bytes, too short for the 8-byte header length");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (n > (ulong)(available - 8))
            throw Fail($"truncated or corrupt: header length {n} exceeds the {available - 8} bytes that follow it");
        if (n > MaxHeaderBytes) throw Fail($"header length {n} exceeds the {MaxHeaderBytes}-byte limit");

        byte[] json = new byte[n];
        s.ReadExactly(json);
        long bufferLength = available - 8 - (long)n;
        var (infos, metadata) = SafetensorsHeader.Parse(json, bufferLength, Fail);

        // infos are sorted by offset and tile the buffer, so one sequential pass reads everything.
        var tensors = new Dictionary<string, SafetensorsEntry>(infos.Count, StringComparer.Ordinal);
        foreach (var t in infos)
        {
            Array raw = t.DType.NewArray(t.Count);
            try
            {
                s.ReadExactly(RawBytes.Of(raw, t.DType.Size()));
            }
            catch (EndOfStreamException e)
            {
                throw FormatError.Of(name, $"truncated: stream ended inside tensor '{t.Name}'", e);
            }
            if (t.DType == DType.Bool) NormalizeBools((bool[])raw);
            float[] data = t.DType == DType.F32 ? (float[])raw : ElementConvert.ToFloat32(raw, t.DType);
            long[]? ints = t.DType.IsFloat() ? null : ElementConvert.ToInt64(raw, t.DType);
            tensors.Add(t.Name, new SafetensorsEntry(t.Name, t.DType, t.Shape, data) { IntegerData = ints });
        }
        return new SafetensorsFile(tensors, metadata);
    }

    /// <summary>A stored bool byte other than 0/1 would make an invalid CLR bool; treat nonzero as true.</summary>
    private static void NormalizeBools(bool[] b)
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(b.AsSpan());
        for (int i = 0; i < bytes.Length; i++) bytes[i] = bytes[i] != 0 ? (byte)1 : (byte)0;
    }

    /// <summary>
    /// Writes float tensors atomically, stored as <paramref name="dtype"/> (F32, F16, BF16 or F64; F16/BF16 round
    /// to nearest even). <paramref name="metadata"/> becomes <c>__metadata__</c> (omitted when null or empty).
    /// </summary>
    public static void Write(string path, IEnumerable<(string name, int[] shape, float[] data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, DType dtype = DType.F32)
    {
        // Validate and materialize before creating the temp file so argument errors leave no trace.
        var list = Prepare(tensors, dtype);
        AtomicFile.Write(path, fs => WriteCore(fs, list, metadata, dtype));
    }

    /// <summary>Same as the path overload but to a caller-owned stream (not atomic).</summary>
    public static void Write(Stream s, IEnumerable<(string name, int[] shape, float[] data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, DType dtype = DType.F32)
    {
        ArgumentNullException.ThrowIfNull(s);
        WriteCore(s, Prepare(tensors, dtype), metadata, dtype);
    }

    private static List<(string name, int[] shape, float[] data)> Prepare(
        IEnumerable<(string name, int[] shape, float[] data)> tensors, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (dtype is not (DType.F32 or DType.F16 or DType.BF16 or DType.F64))
            throw new ArgumentException($"Float tensors can be stored as F32, F16, BF16 or F64, not {dtype}.", nameof(dtype));
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, shape, data) in list)
        {
            ArgumentNullException.ThrowIfNull(name, nameof(tensors));
            ArgumentNullException.ThrowIfNull(data, nameof(tensors));
            if (name == SafetensorsHeader.MetadataKey) throw new ArgumentException($"'{name}' is reserved and cannot name a tensor.", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"Duplicate tensor name '{name}'.", nameof(tensors));
            int count = FileShapes.CountForWrite(shape, nameof(tensors));
            if (count != data.Length)
                throw new ArgumentException($"Tensor '{name}': shape ({string.Join(", ", shape)}) needs {count} elements, data has {data.Length}.", nameof(tensors));
        }
        // One dtype for all tensors, so the reference order (dtype, then name) reduces to ordinal name order.
        list.Sort((a, b) => string.CompareOrdinal(a.name, b.name));
        return list;
    }

    private static void WriteCore(Stream s, List<(string name, int[] shape, float[] data)> list,
        IReadOnlyDictionary<string, string>? metadata, DType dtype)
    {
        var json = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable (still valid JSON, RFC 8259 allows raw UTF-8).
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var kv in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, shape, data) in list)
            {
                long bytes = (long)data.Length * dtype.Size();
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype.SafetensorsName());
                w.WriteStartArray("shape");
                foreach (int d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        int pad = (8 - json.WrittenCount % 8) % 8; // keeps the buffer start 8-byte aligned, as the reference writer does
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.WrittenCount + pad));
        s.Write(len);
        s.Write(json.WrittenSpan);
        for (int i = 0; i < pad; i++) s.WriteByte((byte)' ');
        foreach (var (_, _, data) in list) WriteData(s, data, dtype);
    }

    private static void WriteData(Stream s, float[] data, DType dtype)
    {
        if (dtype == DType.F32)
        {
            s.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        // Convert in chunks so a large tensor does not need a second full-size buffer.
        const int Chunk = 1 << 14;
        byte[] buf = ArrayPool<byte>.Shared.Rent(Chunk * 8);
        try
        {
            for (int start = 0; start < data.Length; start += Chunk)
            {
                ReadOnlySpan<float> src = data.AsSpan(start, Math.Min(Chunk, data.Length - start));
                int bytes = src.Length * dtype.Size();
                Span<byte> dst = buf.AsSpan(0, bytes);
                switch (dtype)
                {
                    case DType.F64:
                    {
                        var d = MemoryMarshal.Cast<byte, double>(dst);
                        for (int i = 0; i < src.Length; i++) d[i] = src[i];
                        break;
                    }
                    case DType.F16:
                    {
                        var d = MemoryMarshal.Cast<byte, Half>(dst);
                        for (int i = 0; i < src.Length; i++) d[i] = (Half)src[i];
                        break;
                    }
                    default:
                    {
                        var d = MemoryMarshal.Cast<byte, ushort>(dst);
                        for (int i = 0; i < src.Length; i++) d[i] = ElementConvert.SingleToBF16(src[i]);
                        break;
                    }
                }
                s.Write(dst);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }
}
