namespace Cedm.IO;

/// <summary>
/// Writes output files atomically (cli.md "Conventions"): the bytes go to a temporary file in the same
/// folder, which is then renamed over the target, so a reader never sees a half-written file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>; an existing file is replaced only when <paramref name="overwrite"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, bool overwrite)
    {
        string full = Path.GetFullPath(path);
        if (!overwrite && File.Exists(full))
            throw new IOException($"{path} already exists (pass --force to overwrite)");
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                f.Write(bytes);
            File.Move(temp, full, overwrite);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
