using System.Text.Json;

namespace Cedm.IO;

/// <summary>
/// Parses and validates the JSON header of a .safetensors file against the format's rules
/// (github.com/huggingface/safetensors, README "Format"):
/// <list type="bullet">
/// <item>the header is a JSON object starting with '{' (trailing space padding allowed);</item>
/// <item>each key except <c>__metadata__</c> maps to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c>,
/// offsets relative to the start of the byte buffer, end exclusive;</item>
/// <item><c>__metadata__</c>, if present, is a string→string map;</item>
/// <item>end − begin = prod(shape) × dtype size; tensors do not overlap and cover the whole buffer
/// without holes (the reference implementation rejects incomplete buffers too); no duplicate keys.</item>
/// </list>
/// Everything is checked before any tensor memory is allocated.
/// </summary>
internal static class SafetensorsHeader
{
    public const string MetadataKey = "__metadata__";

    internal sealed record TensorInfo(string Name, DType DType, int[] Shape, int Count, long Begin, long End);

    public static (List<TensorInfo> tensors, Dictionary<string, string> metadata) Parse(
        ReadOnlySpan<byte> json, long bufferLength, Func<string, Exception> fail)
    {
        if (json.Length == 0 || json[0] != (byte)'{') throw fail("header is not a JSON object (must start with '{')");
        // JsonDocument only validates UTF-8 inside strings lazily (GetString would throw InvalidOperationException).
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw fail("header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw fail($"header is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var tensors = new List<TensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                // JsonDocument keeps duplicate keys; the format forbids them and which one wins would be arbitrary.
                if (!seen.Add(p.Name)) throw fail($"header has duplicate key '{p.Name}'");
                if (p.Name == MetadataKey) ReadMetadata(p.Value, metadata, fail);
                else tensors.Add(ReadTensor(p.Name, p.Value, fail));
            }
            CheckLayout(tensors, bufferLength, fail);
            return (tensors, metadata);
        }
    }

    private static void ReadMetadata(JsonElement e, Dictionary<string, string> into, Func<string, Exception> fail)
    {
        if (e.ValueKind != JsonValueKind.Object) throw fail("'__metadata__' must be an object of strings");
        foreach (JsonProperty p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) throw fail($"'__metadata__' value for '{p.Name}' is not a string");
            if (!into.TryAdd(p.Name, p.Value.GetString()!)) throw fail($"'__metadata__' has duplicate key '{p.Name}'");
        }
    }

    private static TensorInfo ReadTensor(string name, JsonElement e, Func<string, Exception> fail)
    {
        if (e.ValueKind != JsonValueKind.Object) throw fail($"tensor '{name}': entry must be an object");
        JsonElement? dtypeEl = null, shapeEl = null, offsetsEl = null;
        foreach (JsonProperty p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "dtype" when dtypeEl is null: dtypeEl = p.Value; break;
                case "shape" when shapeEl is null: shapeEl = p.Value; break;
                case "data_offsets" when offsetsEl is null: offsetsEl = p.Value; break;
                default: throw fail($"tensor '{name}': unexpected or repeated field '{p.Name}'");
            }
        }
        if (dtypeEl is not { ValueKind: JsonValueKind.String } d) throw fail($"tensor '{name}': missing or non-string 'dtype'");
        string dtypeName = d.GetString()!;
        if (!DTypes.TryParseSafetensorsName(dtypeName, out DType dtype))
            throw fail($"tensor '{name}': unknown or unsupported dtype '{dtypeName}' (supported: BOOL, U8, I8, U16, I16, U32, I32, I64, F16, BF16, F32, F64)");

        long[] dims = ReadInts(shapeEl, name, "shape", fail);
        long[] offsets = ReadInts(offsetsEl, name, "data_offsets", fail);
        if (offsets.Length != 2) throw fail($"tensor '{name}': 'data_offsets' must be [begin, end]");
        long count = FileShapes.CheckedCount(dims, Array.MaxLength);
        if (count < 0) throw fail($"tensor '{name}': shape {FileShapes.Format(dims)} has too many elements (limit {Array.MaxLength})");
        var shape = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] > int.MaxValue) throw fail($"tensor '{name}': shape {FileShapes.Format(dims)} has a dimension that is too large");
            shape[i] = (int)dims[i];
        }
        long begin = offsets[0], end = offsets[1];
        if (end < begin) throw fail($"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");
        long need = count * dtype.Size();
        if (end - begin != need)
            throw fail($"tensor '{name}': data_offsets [{begin}, {end}] span {end - begin} bytes, but shape {FileShapes.Format(dims)} of {dtypeName} needs {need}");
        return new TensorInfo(name, dtype, shape, (int)count, begin, end);
    }

    private static long[] ReadInts(JsonElement? e, string name, string field, Func<string, Exception> fail)
    {
        if (e is not { ValueKind: JsonValueKind.Array } arr) throw fail($"tensor '{name}': missing or non-array '{field}'");
        if (arr.GetArrayLength() > 64) throw fail($"tensor '{name}': '{field}' has too many entries");
        var r = new long[arr.GetArrayLength()];
        int i = 0;
        foreach (JsonElement v in arr.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x) || x < 0)
                throw fail($"tensor '{name}': '{field}' must contain non-negative integers, found {v.GetRawText()}");
            r[i++] = x;
        }
        return r;
    }

    /// <summary>Tensors sorted by offset must tile [0, bufferLength) exactly: no overlap, no gap, nothing outside.</summary>
    private static void CheckLayout(List<TensorInfo> tensors, long bufferLength, Func<string, Exception> fail)
    {
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long pos = 0;
        TensorInfo? prev = null;
        foreach (TensorInfo t in tensors)
        {
            if (t.End > bufferLength)
                throw fail($"tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] are outside the {bufferLength}-byte data buffer");
            if (t.Begin < pos)
                throw fail($"tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] overlap tensor '{prev!.Name}' [{prev.Begin}, {prev.End}]");
            if (t.Begin > pos)
                throw fail($"data buffer has a hole: bytes [{pos}, {t.Begin}) belong to no tensor");
            pos = t.End;
            prev = t;
        }
        if (pos != bufferLength)
            throw fail($"data buffer is {bufferLength} bytes but the tensors use only {pos} (truncated header or trailing garbage)");
    }
}
