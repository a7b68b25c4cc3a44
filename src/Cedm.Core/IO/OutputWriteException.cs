namespace Cedm.IO;

/// <summary>
/// An output could not be written: a full disk, a read-only folder, a folder in the way. The message names the output
/// the user asked for (never the temp file it was being written through); the CLI exits 2, since only the user can
/// free space or choose another --out.
/// </summary>
public sealed class OutputWriteException(string path, string reason, Exception? inner = null)
    : IOException($"{path}: cannot be written ({reason})", inner)
{
    public string Path { get; } = path;
}
