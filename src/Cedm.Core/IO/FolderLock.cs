using System.Globalization;

namespace Cedm.IO;

/// <summary>Another process holds the folder's lock.</summary>
public sealed class FolderInUseException(string folder, string holder)
    : IOException($"{folder} is in use by another cedm process ({holder}); wait for it to finish or use another folder")
{
    public string Folder { get; } = folder;
}

/// <summary>
/// One writer per output folder (a run, a study, a training run, a cluster folder): an exclusive lock on
/// &lt;folder&gt;/.cedm.lock, held until disposed. The lock is the operating system's (on Linux an flock taken by
/// .NET's FileShare.None), so it dies with its process: a killed run leaves the file but no lock, and the next one
/// takes it over with no stale-lock guesswork. The holder's PID and start time go to &lt;folder&gt;/.cedm.lock.info
/// (a locked file cannot be read by others) for the error message of a refused writer.
/// </summary>
public sealed class FolderLock : IDisposable
{
    public const string FileName = ".cedm.lock", InfoFileName = ".cedm.lock.info";

    private readonly FileStream _stream;

    private FolderLock(FileStream stream) => _stream = stream;

    public static FolderLock Acquire(string folder)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        RegularFile.RemoveLink(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            string info = Path.Combine(folder, InfoFileName), holder;
            try { holder = File.Exists(info) ? File.ReadAllText(info).Trim() : ""; }
            catch (IOException) { holder = ""; }
            throw new FolderInUseException(folder, holder.Length > 0 ? holder : "holder unknown");
        }
        var text = string.Create(CultureInfo.InvariantCulture, $"pid {Environment.ProcessId}, since {DateTime.UtcNow:O}");
        AtomicFile.WriteAllBytes(Path.Combine(folder, InfoFileName), System.Text.Encoding.UTF8.GetBytes(text), overwrite: true);
        return new FolderLock(stream);
    }

    public void Dispose() => _stream.Dispose();
}
