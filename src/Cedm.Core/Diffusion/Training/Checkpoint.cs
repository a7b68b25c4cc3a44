using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Diffusion.Training;

/// <summary>Everything a resumed run needs (<see cref="EdmTrainer.Capture"/>).</summary>
public sealed record CheckpointState(
    IReadOnlyDictionary<string, Tensor> Net, IReadOnlyDictionary<string, Tensor> Ema, IReadOnlyDictionary<string, Tensor> Optimizer,
    ulong[] RngState, long CurNimg, long Step);

/// <summary>
/// One .safetensors file per checkpoint: tensors "net.&lt;path&gt;", "ema.&lt;path&gt;" and "optim.state.&lt;i&gt;.&lt;buffer&gt;", and
/// the metadata key "cedm" holding JSON {format, cur_nimg, step, rng (hex words)} — float32 tensors cannot hold a
/// 64-bit generator state or an image count exactly. Written atomically; the run folder's checkpoint.json, replaced
/// atomically afterwards, names the latest complete file, so an interruption at any moment leaves a usable pair.
/// </summary>
public static class Checkpoint
{
    public const string PointerFile = "checkpoint.json", Folder = "checkpoints";
    private const string MetadataKey = "cedm";
    private const int Format = 1;

    public static void Save(string path, CheckpointState state, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        var tensors = new List<(string, int[], float[])>();
        foreach (var (prefix, dict) in new[] { ("net.", state.Net), ("ema.", state.Ema), ("optim.", state.Optimizer) })
            foreach (var (k, t) in dict) tensors.Add((prefix + k, t.ShapeArray(), t.Data));
        var meta = new JsonObject
        {
            ["format"] = Format,
            ["cur_nimg"] = state.CurNimg,
            ["step"] = state.Step,
            ["rng"] = new JsonArray(state.RngState.Select(w => (JsonNode)w.ToString("x16", CultureInfo.InvariantCulture)).ToArray()),
        };
        var metadata = new Dictionary<string, string>(extraMetadata ?? new Dictionary<string, string>()) { [MetadataKey] = meta.ToJsonString() };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Safetensors.Write(path, tensors, metadata);
    }

    public static CheckpointState Load(string path)
    {
        var file = Safetensors.Read(path);
        if (!file.Metadata.TryGetValue(MetadataKey, out var text)) throw new InvalidDataException($"{path}: not a cedm training checkpoint (no '{MetadataKey}' metadata)");
        var meta = JsonNode.Parse(text)!.AsObject();
        if (meta["format"]?.GetValue<int>() != Format) throw new InvalidDataException($"{path}: unsupported checkpoint format {meta["format"]}");
        var rng = meta["rng"]!.AsArray().Select(v => ulong.Parse(v!.GetValue<string>(), NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        Dictionary<string, Tensor> Part(string prefix) => file.Tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => new Tensor(kv.Value.Data, kv.Value.Shape), StringComparer.Ordinal);
        return new CheckpointState(Part("net."), Part("ema."), Part("optim."), rng, meta["cur_nimg"]!.GetValue<long>(), meta["step"]!.GetValue<long>());
    }

    /// <summary>Only the EMA weights (what sampling uses), keyed by parameter path.</summary>
    public static Dictionary<string, Tensor> LoadEma(string path)
    {
        var file = Safetensors.Read(path);
        return file.Tensors.Where(kv => kv.Key.StartsWith("ema.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[4..], kv => new Tensor(kv.Value.Data, kv.Value.Shape), StringComparer.Ordinal);
    }

    /// <summary>The file name of the checkpoint after <paramref name="curNimg"/> images.</summary>
    public static string FileName(long curNimg) => $"ckpt-{curNimg.ToString("D10", CultureInfo.InvariantCulture)}.safetensors";

    /// <summary>Points the run folder at <paramref name="relativeFile"/> (relative to it) atomically.</summary>
    public static void WritePointer(string runDir, string relativeFile, long curNimg, long step, double seconds)
    {
        var json = new JsonObject
        {
            ["version"] = 1,
            ["file"] = relativeFile.Replace('\\', '/'),
            ["cur_nimg"] = curNimg,
            ["kimg"] = curNimg / 1000.0,
            ["step"] = step,
            ["seconds"] = Math.Round(seconds, 3),
        };
        AtomicFile.WriteAllBytes(Path.Combine(runDir, PointerFile),
            System.Text.Encoding.UTF8.GetBytes(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true })), overwrite: true);
    }

    /// <summary>checkpoint.json of a run folder: the latest checkpoint (full path), images and steps so far, training seconds.</summary>
    public sealed record PointerInfo(string Path, long CurNimg, long Step, double Seconds);

    /// <summary>Reads checkpoint.json (written only by <see cref="WritePointer"/>); throws naming the file when it is missing or names a missing checkpoint.</summary>
    public static PointerInfo ReadPointer(string runDir)
    {
        string pointer = System.IO.Path.Combine(runDir, PointerFile);
        if (!File.Exists(pointer)) throw new FileNotFoundException($"{runDir}: no {PointerFile} (no checkpoint yet)", pointer);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(pointer)) as JsonObject ?? throw new InvalidDataException($"{pointer}: not a JSON object"); }
        catch (JsonException e) { throw new InvalidDataException($"{pointer}: {e.Message}", e); }
        string file = System.IO.Path.Combine(runDir, json["file"]?.GetValue<string>() ?? throw new InvalidDataException($"{pointer}: no 'file'"));
        if (!File.Exists(file)) throw new FileNotFoundException($"{pointer} names {file}, which does not exist", file);
        return new PointerInfo(file, json["cur_nimg"]?.GetValue<long>() ?? 0, json["step"]?.GetValue<long>() ?? 0, json["seconds"]?.GetValue<double>() ?? 0);
    }

    /// <summary>The latest checkpoint of a run folder (full path) and its training seconds, or null when there is none.</summary>
    public static (string Path, double Seconds)? Latest(string runDir)
    {
        if (!File.Exists(System.IO.Path.Combine(runDir, PointerFile))) return null;
        var p = ReadPointer(runDir);
        return (p.Path, p.Seconds);
    }
}
