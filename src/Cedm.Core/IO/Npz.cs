using System.IO.Compression;

namespace Cedm.IO;

/// <summary>
/// NumPy .npz archives (numpy/lib/npyio.py, <c>np.savez</c> / <c>np.savez_compressed</c>): a ZIP file with one
/// <c>NAME.npy</c> entry per array, stored or deflated. Read: every .npy entry, keyed by NAME; other entries are
/// ignored. Write: stored entries (as <c>np.savez</c>), atomically. Errors name the archive (and the entry).
/// </summary>
public static class Npz
{
    /// <summary>A cap on the entries read, so a hostile archive cannot make us allocate without end.</summary>
    public const int MaxEntries = 4096;

    public static Dictionary<string, NpyArray> Read(string path)
    {
        var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            if (zip.Entries.Count > MaxEntries) throw FormatError.Of(path, $"has {zip.Entries.Count} entries, more than {MaxEntries}");
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string name = entry.FullName[..^4];
                using var stream = entry.Open();
                arrays[name] = Npy.Read(stream, $"{path}:{entry.FullName}");
            }
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw FormatError.Of(path, $"is not a readable .npz (zip) archive ({e.Message})", e);
        }
        return arrays;
    }

    public static void Write(string path, IReadOnlyList<(string Name, NpyArray Array)> arrays, bool overwrite = true) =>
        AtomicFile.Write(path, s =>
        {
            using var zip = new ZipArchive(s, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, array) in arrays)
            {
                using var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                Npy.Write(entry, array);
            }
        }, overwrite);
}
