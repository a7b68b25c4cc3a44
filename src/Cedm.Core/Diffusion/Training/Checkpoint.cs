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

    /// <summary>Everything a resumed run needs; every failure (format, metadata, a non-finite value) names the file.</summary>
    public static CheckpointState Load(string path)
    {
        var file = Safetensors.Read(path);
        if (!file.Metadata.TryGetValue(MetadataKey, out var text)) throw new InvalidDataException($"{path}: not a cedm training checkpoint (no '{MetadataKey}' metadata)");
        ulong[] rng;
        long curNimg, step;
        try
        {
            var meta = JsonNode.Parse(text)!.AsObject();
            if (meta["format"]?.GetValue<int>() != Format) throw new InvalidDataException($"{path}: unsupported checkpoint format {meta["format"]}");
            rng = meta["rng"]!.AsArray().Select(v => ulong.Parse(v!.GetValue<string>(), NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
            curNimg = meta["cur_nimg"]!.GetValue<long>();
            step = meta["step"]!.GetValue<long>();
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException or InvalidOperationException or NullReferenceException)
        {
            throw new InvalidDataException($"{path}: malformed '{MetadataKey}' metadata ({e.Message})", e);
        }
        if (rng.Length != Rng.StateLength || curNimg < 0 || step < 0) throw new InvalidDataException($"{path}: malformed '{MetadataKey}' metadata (rng words {rng.Length}, cur_nimg {curNimg}, step {step})");
        return new CheckpointState(Part(file, path, "net."), Part(file, path, "ema."), Part(file, path, "optim."), rng, curNimg, step);
    }

    /// <summary>Only the EMA weights (what sampling uses), keyed by parameter path; a non-finite weight names the file and tensor.</summary>
    public static Dictionary<string, Tensor> LoadEma(string path) => Part(Safetensors.Read(path), path, "ema.");

    /// <summary>
    /// The tensors under <paramref name="prefix"/>, each checked to be finite: a NaN or infinite weight would otherwise
    /// sample black images or resume into a diverged run with exit 0.
    /// </summary>
    private static Dictionary<string, Tensor> Part(SafetensorsFile file, string path, string prefix)
    {
        var part = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in file.Tensors)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            int bad = Array.FindIndex(value.Data, v => !float.IsFinite(v));
            if (bad >= 0) throw new InvalidDataException($"{path}: tensor '{key}' holds a non-finite value ({value.Data[bad]} at flat index {bad}); the checkpoint is corrupt or the run diverged");
            part[key[prefix.Length..]] = new Tensor(value.Data, value.Shape);
        }
        return part;
    }

    /// <summary>
    /// Loads <paramref name="state"/> (read from <paramref name="path"/>) into <paramref name="module"/>, built from
    /// <paramref name="runDir"/>'s config.json; a mismatch names both files (exit 2 in the CLI).
    /// </summary>
    public static void LoadInto(Cedm.Nn.Module module, IReadOnlyDictionary<string, Tensor> state, string path, string runDir)
    {
        ArgumentNullException.ThrowIfNull(module);
        try { module.LoadStateDict(state); }
        catch (Cedm.Nn.StateDictException e)
        {
            throw new InvalidDataException($"{path}: does not fit the network of {System.IO.Path.Combine(runDir, RunConfig.FileName)}: {e.Message}", e);
        }
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
        string file;
        long curNimg, step;
        double seconds;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(pointer)) as JsonObject ?? throw new InvalidDataException($"{pointer}: not a JSON object");
            string name = json["file"]?.GetValue<string>() ?? throw new InvalidDataException($"{pointer}: no 'file'");
            // The pointer names a file inside the run folder; anything else is a crafted or damaged pointer.
            if (name.Length == 0 || System.IO.Path.IsPathRooted(name) || name.Split('/', '\\').Contains(".."))
                throw new InvalidDataException($"{pointer}: 'file' must be a path inside the run folder, got '{name}'");
            file = System.IO.Path.Combine(runDir, name);
            curNimg = json["cur_nimg"]?.GetValue<long>() ?? 0;
            step = json["step"]?.GetValue<long>() ?? 0;
            seconds = json["seconds"]?.GetValue<double>() ?? 0;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{pointer}: not a cedm checkpoint pointer ({e.Message})", e);
        }
        if (!File.Exists(file)) throw new FileNotFoundException($"{pointer} names {file}, which does not exist", file);
        return new PointerInfo(file, curNimg, step, seconds);
    }

    /// <summary>The latest checkpoint of a run folder (full path) and its training seconds, or null when there is none.</summary>
    public static (string Path, double Seconds)? Latest(string runDir)
    {
        if (!File.Exists(System.IO.Path.Combine(runDir, PointerFile))) return null;
        var p = ReadPointer(runDir);
        return (p.Path, p.Seconds);
    }
}
