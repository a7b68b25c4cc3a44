using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Nn;

// Checkpoints: the state dict as a .safetensors file whose keys are the parameter paths.
public abstract partial class Module
{
    /// <summary>
    /// Writes <see cref="StateDict"/> as float32 .safetensors (atomically), with optional string metadata
    /// (e.g. the training configuration, cur_nimg).
    /// </summary>
    public void SaveSafetensors(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = StateDict().Select(kv => (kv.Key, kv.Value.ShapeArray(), kv.Value.Data));
        Safetensors.Write(path, entries, metadata);
    }

    /// <summary>
    /// Loads a .safetensors file written by <see cref="SaveSafetensors"/> (or any file with matching keys; F16/BF16/F64
    /// are converted to float32) through <see cref="LoadStateDict"/>. Returns the file's metadata.
    /// </summary>
    public IReadOnlyDictionary<string, string> LoadSafetensors(string path, bool strict = true) => LoadSafetensors(Safetensors.Read(path), path, strict);

    /// <summary>As <see cref="LoadSafetensors(string, bool)"/> from a file already read (its metadata first told the caller
    /// which network to build); <paramref name="path"/> names it in errors.</summary>
    public IReadOnlyDictionary<string, string> LoadSafetensors(SafetensorsFile file, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(file);
        var state = file.Tensors.ToDictionary(kv => kv.Key, kv => new Tensor(kv.Value.Data, kv.Value.Shape), StringComparer.Ordinal);
        try
        {
            LoadStateDict(state, strict);
        }
        catch (StateDictException e)
        {
            throw new StateDictException($"{path}: {e.Message}", e.MissingKeys, e.UnexpectedKeys);
        }
        return file.Metadata;
    }
}
