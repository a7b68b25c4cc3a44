namespace Cedm.IO;

/// <summary>
/// One tensor read from a .safetensors file. <see cref="DType"/> is the stored dtype; <see cref="Data"/> is
/// always float32 (exact for F32/F16/BF16, rounded to nearest for F64 and for integers beyond 2^24).
/// For integer and BOOL tensors <see cref="IntegerData"/> additionally holds the exact values.
/// A 0-d tensor has an empty <see cref="Shape"/> and one element.
/// </summary>
public sealed record SafetensorsEntry(string Name, DType DType, int[] Shape, float[] Data)
{
    /// <summary>Exact values of integer/BOOL tensors (as int64); null for float dtypes.</summary>
    public long[]? IntegerData { get; init; }
}

/// <summary>The tensors and the <c>__metadata__</c> string map of a .safetensors file.</summary>
public sealed class SafetensorsFile(IReadOnlyDictionary<string, SafetensorsEntry> tensors, IReadOnlyDictionary<string, string> metadata)
{
    /// <summary>Tensors by name (ordinal comparison).</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Tensors { get; } = tensors;

    /// <summary>The free-form <c>__metadata__</c> map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;
}
