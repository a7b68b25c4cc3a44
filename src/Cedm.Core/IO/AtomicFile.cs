namespace Cedm.IO;

/// <summary>
/// Writes output files atomically (cli.md "Conventions"): content goes to a sibling temp file (same directory, so
/// the final rename stays on one file system and is atomic on POSIX), is flushed to disk, then renamed over the
/// target. On failure the temp file is removed and the target is untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes through <paramref name="write"/>; an existing file is replaced only when <paramref name="overwrite"/>
    /// (the CLI passes its --force flag).
    /// </summary>
    public static void Write(string path, Action<Stream> write, bool overwrite = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!overwrite && File.Exists(full))
            throw new OutputExistsException(path);
        if (Directory.Exists(full)) throw new OutputWriteException(path, "a folder of that name is in the way");
        try { Directory.CreateDirectory(Path.GetDirectoryName(full)!); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new OutputWriteException(path, e.Message, e); }
        string tmp = $"{full}{TempMarker}{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 6).ToLowerInvariant()}";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            // A full disk, a read-only folder or a directory in the way: name the output, not our temp file.
            if (e is UnauthorizedAccessException or IOException && e is not OutputExistsException and not OutputWriteException)
                throw new OutputWriteException(path, e.Message.Replace(tmp, path, StringComparison.Ordinal), e);
            throw;
        }
    }

    public static void WriteAllBytes(string path, byte[] bytes, bool overwrite) => Write(path, fs => fs.Write(bytes), overwrite);

    /// <summary>What a temp file's name has between its target's name and a random suffix.</summary>
    public const string TempMarker = ".tmp-";

    /// <summary>
    /// Deletes the temp files a killed writer left in <paramref name="dir"/> (not below it). Only safe while the
    /// caller holds the folder's <see cref="FolderLock"/>: then no other writer can be mid-write there.
    /// </summary>
    public static int CleanStaleTemps(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        int removed = 0;
        foreach (var f in Directory.EnumerateFiles(dir, "*" + TempMarker + "*"))
        {
            string suffix = f[(f.LastIndexOf(TempMarker, StringComparison.Ordinal) + TempMarker.Length)..];
            if (suffix.Length != 12 || !suffix.All(char.IsAsciiHexDigitLower)) continue;
            File.Delete(f);
            removed++;
        }
        return removed;
    }
}
