namespace Cedm.IO;

/// <summary>
/// Opens files for writing inside folders a user or another program may have tampered with: a symbolic link at the
/// path is removed (the link itself, never what it points to) and a regular file is created in its place, so a link
/// planted as a run folder's `log.jsonl` or `logs/&lt;step&gt;.log` cannot redirect cedm's writes to another file.
/// Writers of whole files use <see cref="AtomicFile"/>, whose rename replaces a link the same way; this type serves the
/// files cedm appends to or streams into. Callers hold the folder's <see cref="FolderLock"/>, so no other cedm
/// process re-plants a link between the check and the open.
/// </summary>
public static class RegularFile
{
    /// <summary>Opens <paramref name="path"/> to append (<paramref name="append"/>) or to rewrite from empty, never through a link.</summary>
    public static FileStream OpenWrite(string path, bool append)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RemoveLink(path);
        return new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
    }

    /// <summary>A UTF-8 text writer over <see cref="OpenWrite"/>.</summary>
    public static StreamWriter OpenText(string path, bool append) => new(OpenWrite(path, append));

    /// <summary>Deletes <paramref name="path"/> when it is a symbolic link (dangling or not); returns whether it was one.</summary>
    public static bool RemoveLink(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null) return false;
        info.Delete();
        return true;
    }

    /// <summary>Whether <paramref name="path"/> is a symbolic link.</summary>
    public static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;
}
