using System.Text;

namespace Cedm.Features.Onnx;

/// <summary>One attribute of an ONNX node: a float, an int, a string or a list of ints/floats (other kinds are skipped).</summary>
public sealed record OnnxAttributeValue(string Name, float? Real, long? Whole, string? Text, long[] Integers, float[] Reals);

/// <summary>One node of an ONNX graph (operator, named inputs and outputs, attributes).</summary>
public sealed record OnnxNode(string Name, string OpType, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, OnnxAttributeValue> Attributes)
{
    public long[] Integers(string name, long[] fallback) => Attributes.TryGetValue(name, out var a) && a.Integers.Length > 0 ? a.Integers : fallback;
    public long Whole(string name, long fallback) => Attributes.TryGetValue(name, out var a) && a.Whole is long v ? v : fallback;
    public float Real(string name, float fallback) => Attributes.TryGetValue(name, out var a) && a.Real is float v ? v : fallback;
    public string Text(string name, string fallback) => Attributes.TryGetValue(name, out var a) && a.Text is string v ? v : fallback;
}

/// <summary>A stored float tensor of the graph (an initializer): its shape and values.</summary>
public sealed record OnnxInitializer(string Name, long[] Dims, float[] Values);

/// <summary>A graph input or output: name and dims (−1 where the dimension is symbolic or unknown).</summary>
public sealed record OnnxValueInfo(string Name, long[] Dims);

/// <summary>
/// The parts of an ONNX model (a protobuf <c>ModelProto</c>) that running a convolutional network needs: the graph's
/// nodes in order, its float initializers, and its declared inputs and outputs. A minimal reader of the protobuf
/// wire format (varints, fixed32/64, length-delimited fields) over the field numbers of onnx.proto (ModelProto.graph
/// = 7; GraphProto node 1, initializer 5, input 11, output 12; NodeProto input 1, output 2, name 3, op_type 4,
/// attribute 5; AttributeProto name 1, f 2, i 3, s 4, floats 7, ints 8; TensorProto dims 1, data_type 2,
/// float_data 4, name 8, raw_data 9, data_location 14), so no protobuf runtime is needed. Only FLOAT initializers
/// are decoded (others are listed with no values); external-data tensors are refused with a clear error.
/// </summary>
public sealed class OnnxModel
{
    private const int FloatType = 1;

    private OnnxModel(string source, string producer, List<OnnxNode> nodes, Dictionary<string, OnnxInitializer> inits,
        List<OnnxValueInfo> inputs, List<OnnxValueInfo> outputs)
    {
        Source = source;
        Producer = producer;
        Nodes = nodes;
        Initializers = inits;
        // Graph inputs that are also initializers are weights, not data inputs (older exporters list both).
        Inputs = inputs.Where(i => !inits.ContainsKey(i.Name)).ToList();
        Outputs = outputs;
    }

    /// <summary>The file it was read from (for error messages).</summary>
    public string Source { get; }

    public string Producer { get; }

    public IReadOnlyList<OnnxNode> Nodes { get; }

    public IReadOnlyDictionary<string, OnnxInitializer> Initializers { get; }

    /// <summary>Data inputs (initializers excluded).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    public static OnnxModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        try
        {
            return Parse(File.ReadAllBytes(path), path);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            throw new InvalidDataException($"{path}: not a readable ONNX model (truncated or not protobuf).", e);
        }
    }

    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string source)
    {
        ReadOnlySpan<byte> graph = default;
        string producer = "";
        bool found = false;
        var r = new Reader(bytes);
        while (r.Next(out int field, out int wire))
        {
            if (field == 7 && wire == 2) { graph = r.Bytes(); found = true; }
            else if (field == 2 && wire == 2) producer = r.String();
            else r.Skip(wire);
        }
        if (!found) throw new InvalidDataException($"{source}: not an ONNX model (no graph).");
        var nodes = new List<OnnxNode>();
        var inits = new Dictionary<string, OnnxInitializer>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var g = new Reader(graph);
        while (g.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: nodes.Add(ReadNode(g.Bytes())); break;
                case 5 when wire == 2: var t = ReadTensor(g.Bytes(), source); inits[t.Name] = t; break;
                case 11 when wire == 2: inputs.Add(ReadValueInfo(g.Bytes())); break;
                case 12 when wire == 2: outputs.Add(ReadValueInfo(g.Bytes())); break;
                default: g.Skip(wire); break;
            }
        }
        return new OnnxModel(source, producer, nodes, inits, inputs, outputs);
    }

    private static OnnxNode ReadNode(ReadOnlySpan<byte> bytes)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attrs = new Dictionary<string, OnnxAttributeValue>();
        string name = "", op = "";
        var r = new Reader(bytes);
        while (r.Next(out int field, out int wire))
        {
            if (wire != 2) { r.Skip(wire); continue; }
            switch (field)
            {
                case 1: inputs.Add(r.String()); break;
                case 2: outputs.Add(r.String()); break;
                case 3: name = r.String(); break;
                case 4: op = r.String(); break;
                case 5: var a = ReadAttribute(r.Bytes()); attrs[a.Name] = a; break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxNode(name, op, [.. inputs], [.. outputs], attrs);
    }

    private static OnnxAttributeValue ReadAttribute(ReadOnlySpan<byte> bytes)
    {
        string name = "";
        float? f = null;
        long? i = null;
        string? s = null;
        var ints = new List<long>();
        var floats = new List<float>();
        var r = new Reader(bytes);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: name = r.String(); break;
                case 2 when wire == 5: f = r.Fixed32Float(); break;
                case 3 when wire == 0: i = (long)r.Varint(); break;
                case 4 when wire == 2: s = r.String(); break;
                case 7 when wire == 5: floats.Add(r.Fixed32Float()); break;
                case 7 when wire == 2: var pf = new Reader(r.Bytes()); while (!pf.End) floats.Add(pf.Fixed32Float()); break;
                case 8 when wire == 0: ints.Add((long)r.Varint()); break;
                case 8 when wire == 2: var pi = new Reader(r.Bytes()); while (!pi.End) ints.Add((long)pi.Varint()); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxAttributeValue(name, f, i, s, [.. ints], [.. floats]);
    }

    private static OnnxInitializer ReadTensor(ReadOnlySpan<byte> bytes, string source)
    {
        var dims = new List<long>();
        int type = 0;
        string name = "";
        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false, external = false;
        var floats = new List<float>();
        var r = new Reader(bytes);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 0: dims.Add((long)r.Varint()); break;
                case 1 when wire == 2: var pd = new Reader(r.Bytes()); while (!pd.End) dims.Add((long)pd.Varint()); break;
                case 2 when wire == 0: type = (int)r.Varint(); break;
                case 4 when wire == 5: floats.Add(r.Fixed32Float()); break;
                case 4 when wire == 2: var pf = new Reader(r.Bytes()); while (!pf.End) floats.Add(pf.Fixed32Float()); break;
                case 8 when wire == 2: name = r.String(); break;
                case 9 when wire == 2: raw = r.Bytes(); hasRaw = true; break;
                case 14 when wire == 0: external = r.Varint() == 1; break;
                default: r.Skip(wire); break;
            }
        }
        if (type != FloatType) return new OnnxInitializer(name, [.. dims], []);
        if (external)
            throw new InvalidDataException($"{source}: initializer '{name}' keeps its data in an external file; re-export the model with the weights inside the .onnx.");
        long count = 1;
        foreach (long d in dims) count *= d;
        float[] values = hasRaw ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray() : [.. floats];
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian.");
        if (values.Length != count)
            throw new InvalidDataException($"{source}: initializer '{name}' has {values.Length} values for dims [{string.Join(", ", dims)}].");
        return new OnnxInitializer(name, [.. dims], values);
    }

    private static OnnxValueInfo ReadValueInfo(ReadOnlySpan<byte> bytes)
    {
        string name = "";
        var dims = new List<long>();
        var r = new Reader(bytes);
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 2) name = r.String();
            else if (field == 2 && wire == 2)
            {
                // TypeProto.tensor_type (1) → Tensor.shape (2) → TensorShapeProto.dim (1) → dim_value (1) | dim_param (2).
                var type = new Reader(r.Bytes());
                while (type.Next(out int tf, out int tw))
                {
                    if (tf != 1 || tw != 2) { type.Skip(tw); continue; }
                    var tensor = new Reader(type.Bytes());
                    while (tensor.Next(out int sf, out int sw))
                    {
                        if (sf != 2 || sw != 2) { tensor.Skip(sw); continue; }
                        var shape = new Reader(tensor.Bytes());
                        while (shape.Next(out int df, out int dw))
                        {
                            if (df != 1 || dw != 2) { shape.Skip(dw); continue; }
                            long value = -1;
                            var dim = new Reader(shape.Bytes());
                            while (dim.Next(out int vf, out int vw))
                                if (vf == 1 && vw == 0) value = (long)dim.Varint(); else dim.Skip(vw);
                            dims.Add(value);
                        }
                    }
                }
            }
            else r.Skip(wire);
        }
        return new OnnxValueInfo(name, [.. dims]);
    }

    /// <summary>Protobuf wire-format cursor over a byte span.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly bool End => _pos >= _data.Length;

        public bool Next(out int field, out int wire)
        {
            if (End) { field = 0; wire = 0; return false; }
            ulong key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = _data[_pos++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
            throw new InvalidDataException("malformed varint");
        }

        public ReadOnlySpan<byte> Bytes()
        {
            int n = checked((int)Varint());
            var s = _data.Slice(_pos, n);
            _pos += n;
            return s;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        public float Fixed32Float()
        {
            float f = BitConverter.ToSingle(_data.Slice(_pos, 4));
            _pos += 4;
            return f;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _pos += 8; break;
                case 2: Bytes(); break;
                case 5: _pos += 4; break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire}");
            }
            if (_pos > _data.Length) throw new InvalidDataException("truncated protobuf field");
        }
    }
}
