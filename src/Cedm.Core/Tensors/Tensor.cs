using System.Numerics.Tensors;

namespace Cedm.Tensors;

/// <summary>
/// A float32 tensor: contiguous, row-major (C order; images are NCHW), with an optional autograd history.
/// The data array may be shared with other tensors (reshape and detach are views without a copy), so
/// code outside the optimisers never writes into a tensor that took part in a graph.
/// Ops live in the partial files beside this one, each with its backward right next to its forward.
/// </summary>
public sealed partial class Tensor
{
    private readonly float[] _data;
    private readonly int[] _shape;

    /// <summary>Wraps <paramref name="data"/> (not copied) with the given shape.</summary>
    public Tensor(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        int size = Shapes.Size(shape);
        if (data.Length != size)
            throw new ArgumentException($"Data has {data.Length} elements but shape {Shapes.Format(shape)} needs {size}.");
        _data = data;
        _shape = (int[])shape.Clone();
    }

    /// <summary>The elements in row-major order (shared, not a copy).</summary>
    public float[] Data => _data;

    public Span<float> Span => _data;

    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>A copy of the shape, for building new shapes.</summary>
    public int[] ShapeArray() => (int[])_shape.Clone();

    public int Rank => _shape.Length;

    public int Size => _data.Length;

    /// <summary>Size of one dimension; negative axes count from the end.</summary>
    public int Dim(int axis) => _shape[Shapes.Axis(axis, _shape.Length)];

    /// <summary>An optional name (parameters carry their path, e.g. "enc.0.conv.weight").</summary>
    public string? Name { get; set; }

    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[params int[] index]
    {
        get => _data[FlatIndex(index)];
        set => _data[FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != _shape.Length)
            throw new ArgumentException($"Index of rank {index.Length} for a tensor of shape {Shapes.Format(_shape)}.");
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            // CA2201: an index past the end throws what an array would.
#pragma warning disable CA2201
            if ((uint)index[i] >= (uint)_shape[i])
                throw new IndexOutOfRangeException($"Index {index[i]} out of range for dim {i} of shape {Shapes.Format(_shape)}.");
#pragma warning restore CA2201
            flat = flat * _shape[i] + index[i];
        }
        return flat;
    }

    /// <summary>The single value of a one-element tensor (e.g. a loss).</summary>
    public float Item()
    {
        if (_data.Length != 1) throw new InvalidOperationException($"Item() needs a one-element tensor, got shape {Shapes.Format(_shape)}.");
        return _data[0];
    }

    public float[] ToArray() => (float[])_data.Clone();

    public Tensor Clone() => new(ToArray(), _shape);

    public override string ToString()
    {
        var preview = string.Join(", ", _data.Take(8).Select(v => v.ToString("G5", System.Globalization.CultureInfo.InvariantCulture)));
        return $"Tensor{Shapes.Format(_shape)}{(Node != null ? $" ({Node.Op})" : "")} [{preview}{(_data.Length > 8 ? ", ..." : "")}]";
    }

    // ---- factories ---------------------------------------------------------------------------

    public static Tensor Zeros(params int[] shape) => new(new float[Shapes.Size(shape)], shape);

    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    public static Tensor Full(float value, params int[] shape)
    {
        var d = GC.AllocateUninitializedArray<float>(Shapes.Size(shape));
        d.AsSpan().Fill(value);
        return new Tensor(d, shape);
    }

    public static Tensor Scalar(float value) => new([value]);

    /// <summary>Copies <paramref name="data"/> into a new tensor.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> data, params int[] shape) => new(data.ToArray(), shape);

    public static Tensor ZerosLike(Tensor t) => Zeros(t._shape);

    /// <summary>N(mean, std²) samples drawn from <paramref name="rng"/> in row-major order.</summary>
    public static Tensor Randn(Rng rng, int[] shape, float mean = 0f, float std = 1f)
    {
        var t = Uninitialized(shape);
        rng.FillNormal(t._data, mean, std);
        return t;
    }

    /// <summary>U[low, high) samples drawn from <paramref name="rng"/> in row-major order.</summary>
    public static Tensor Rand(Rng rng, int[] shape, float low = 0f, float high = 1f)
    {
        var t = Uninitialized(shape);
        rng.FillUniform(t._data, low, high);
        return t;
    }

    /// <summary>
    /// A tensor whose contents the caller promises to overwrite completely (its storage is recycled when a
    /// <see cref="TensorArena"/> scope is open on this thread).
    /// </summary>
    internal static Tensor Uninitialized(ReadOnlySpan<int> shape) =>
        new(TensorArena.Allocate(Shapes.Size(shape)), shape.ToArray());

    // ---- checks ------------------------------------------------------------------------------

    internal void RequireRank(int rank, string op)
    {
        if (_shape.Length != rank)
            throw new ArgumentException($"{op} expects a rank-{rank} tensor, got shape {Shapes.Format(_shape)}.");
    }

    internal static void RequireSameShape(Tensor a, Tensor b, string op)
    {
        if (!Shapes.Equal(a._shape, b._shape))
            throw new ArgumentException($"{op}: shapes {Shapes.Format(a._shape)} and {Shapes.Format(b._shape)} differ.");
    }

    /// <summary>True when every element is finite (no NaN or infinity).</summary>
    public bool AllFinite()
    {
        foreach (float v in _data) if (!float.IsFinite(v)) return false;
        return true;
    }

    public float Max() => TensorPrimitives.Max<float>(_data);

    public float Min() => TensorPrimitives.Min<float>(_data);
}
