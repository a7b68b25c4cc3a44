using System.Runtime.InteropServices;

namespace Cedm.IO;

/// <summary>
/// What a path is before cedm opens it: a FIFO named like an image blocks its reader forever and a link to /dev/zero
/// never ends, so folder sources read only regular files (links followed) below a size cap. .NET does not expose the
/// file type, so on Linux it comes from statx(2), whose layout, unlike stat's, is the same on every architecture;
/// elsewhere from <see cref="FileInfo"/>.
/// </summary>
public static partial class FileKind
{
    /// <summary>Whether <paramref name="path"/> (links followed) is a regular file, and its size in bytes.</summary>
    public static (bool Regular, long Size) Stat(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            Span<byte> buffer = stackalloc byte[256];   // struct statx is 256 bytes
            if (StatX(AtCurrentDirectory, path, 0, StatxType | StatxSize, ref MemoryMarshal.GetReference(buffer)) == 0)
            {
                ushort mode = MemoryMarshal.Read<ushort>(buffer[28..]);   // stx_mode
                long size = MemoryMarshal.Read<long>(buffer[40..]);       // stx_size
                return ((mode & 0xF000) == 0x8000, size);                 // S_IFMT, S_IFREG
            }
        }
        var info = new FileInfo(path);
        return (info.Exists, info.Exists ? info.Length : 0);
    }

    private const int AtCurrentDirectory = -100;
    private const uint StatxType = 0x1, StatxSize = 0x200;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatX(int dirfd, string path, int flags, uint mask, ref byte buffer);
}
