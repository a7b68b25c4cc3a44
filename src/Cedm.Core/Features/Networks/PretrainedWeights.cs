using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Features.Networks;

/// <summary>
/// The tensors of a pretrained network read by key, with errors that name the key and the file. Checkpoints
/// exported from training code often nest the backbone under a prefix ("module.", "backbone.",
/// "teacher.backbone."); the prefix is found from an anchor key that every layout has (e.g. "cls_token") and
/// applied to every lookup. Keys the network never asks for (classifier heads, BatchNorm's num_batches_tracked,
/// DINOv2's mask_token) are listed by <see cref="UnusedKeys"/>.
/// </summary>
public sealed class PretrainedWeights
{
    private readonly IReadOnlyDictionary<string, Tensor> _tensors;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private PretrainedWeights(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata, string source, string prefix)
    {
        _tensors = tensors;
        Metadata = metadata;
        Source = source;
        Prefix = prefix;
    }

    /// <summary>The file name (or a description) used in messages.</summary>
    public string Source { get; }

    /// <summary>The key prefix found in front of the anchor key ("" for plain exports).</summary>
    public string Prefix { get; }

    /// <summary>The file's <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads a .safetensors file (F32/F16/BF16/F64 become float32).</summary>
    public static PretrainedWeights Load(string path, string anchorKey)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Weights file not found: {path}", path);
        var file = Safetensors.Read(path);
        var tensors = file.Tensors.ToDictionary(kv => kv.Key, kv => new Tensor(kv.Value.Data, kv.Value.Shape), StringComparer.Ordinal);
        return FromTensors(tensors, Path.GetFileName(path), anchorKey, file.Metadata);
    }

    /// <summary>Wraps tensors already in memory (tests, conversions); <paramref name="source"/> names them in messages.</summary>
    public static PretrainedWeights FromTensors(IReadOnlyDictionary<string, Tensor> tensors, string source, string anchorKey,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        string? prefix = null;
        if (tensors.ContainsKey(anchorKey)) prefix = "";
        else
        {
            var candidates = tensors.Keys.Where(k => k.EndsWith("." + anchorKey, StringComparison.Ordinal))
                .Select(k => k[..^anchorKey.Length]).OrderBy(p => p.Length).ToList();
            if (candidates.Count > 0) prefix = candidates[0];
        }
        if (prefix == null)
            throw new InvalidDataException($"{source}: no tensor '{anchorKey}' (nor '<prefix>.{anchorKey}'): not a checkpoint of the expected network. " +
                                           $"It has {tensors.Count} tensors{Sample(tensors.Keys)}.");
        return new PretrainedWeights(tensors, metadata ?? new Dictionary<string, string>(), source, prefix);
    }

    public bool Has(string key) => _tensors.ContainsKey(Prefix + key);

    /// <summary>
    /// The tensor under <paramref name="key"/> with the given shape (−1 = any size; the rank must match).
    /// Throws <see cref="InvalidDataException"/> naming the key and the file when it is missing or misshaped.
    /// </summary>
    public Tensor Require(string key, params int[] shape) =>
        Optional(key, shape) ?? throw new InvalidDataException(
            $"{Source}: missing tensor '{Prefix + key}' (expected shape {FormatPattern(shape)}){Similar(key)}.");

    /// <summary>As <see cref="Require"/> but null when the key is absent (a present tensor must still have the shape).</summary>
    public Tensor? Optional(string key, params int[] shape)
    {
        if (!_tensors.TryGetValue(Prefix + key, out var t)) return null;
        _used.Add(Prefix + key);
        bool ok = t.Rank == shape.Length;
        for (int i = 0; ok && i < shape.Length; i++) ok = shape[i] < 0 || shape[i] == t.Shape[i];
        if (!ok)
            throw new InvalidDataException($"{Source}: tensor '{Prefix + key}' has shape {Cedm.Tensors.Shapes.Format(t.Shape)}, expected {FormatPattern(shape)}.");
        return t;
    }

    /// <summary>Keys present in the file that no lookup asked for (sorted).</summary>
    public IReadOnlyList<string> UnusedKeys() => [.. _tensors.Keys.Where(k => !_used.Contains(k)).Order(StringComparer.Ordinal)];

    /// <summary>Number of stored tensor keys under the prefix that start with <paramref name="keyPrefix"/>.</summary>
    public IEnumerable<string> KeysStartingWith(string keyPrefix) =>
        _tensors.Keys.Where(k => k.StartsWith(Prefix + keyPrefix, StringComparison.Ordinal)).Select(k => k[Prefix.Length..]);

    private static string FormatPattern(int[] shape) => "[" + string.Join(", ", shape.Select(d => d < 0 ? "*" : d.ToString())) + "]";

    /// <summary>A hint for misnamed keys: stored keys that share the last two name components.</summary>
    private string Similar(string key)
    {
        var parts = key.Split('.');
        string tail = string.Join('.', parts.Skip(Math.Max(0, parts.Length - 2)));
        var near = _tensors.Keys.Where(k => k.EndsWith(tail, StringComparison.Ordinal)).Take(3).ToList();
        return near.Count > 0 ? $"; similar keys in the file: {string.Join(", ", near)}" : "";
    }

    private static string Sample(IEnumerable<string> keys)
    {
        var first = keys.Order(StringComparer.Ordinal).Take(5).ToList();
        return first.Count == 0 ? "" : ", e.g. " + string.Join(", ", first);
    }
}
