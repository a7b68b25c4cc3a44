using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cedm.Metrics;

/// <summary>
/// Where `cedm eval` keeps the statistics of real data per (source, evaluator, transform, subsampling): under
/// $CEDM_CACHE, else $XDG_CACHE_HOME/cedm, else ~/.cache/cedm, in eval-reference/&lt;hash of the key&gt;/. The key
/// includes the content fingerprint (<see cref="Fingerprint"/>) of every file and folder the source or evaluator
/// names, so an added, removed or rewritten file — at any depth of a folder — misses.
/// </summary>
public static class ReferenceCache
{
    public const int FormatVersion = 1;

    public static string Root() => Cedm.IO.CacheFolder.Root();

    /// <summary>The cache folder for <paramref name="key"/> (not created).</summary>
    public static string Folder(JsonObject key)
    {
        key["format"] = FormatVersion;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key.ToJsonString()));
        return Path.Combine(Root(), "eval-reference", Convert.ToHexString(hash, 0, 10).ToLowerInvariant());
    }

    /// <summary>
    /// Fingerprints of each path-like part of a spec ("npy:a.npy,b.npy", "folder:dir", "vit:w.safetensors"), for cache
    /// keys: a file gives "path:size:mtime"; a folder gives "path:files:hash" with the SHA-256 of the relative path,
    /// size and modification time (100 ns ticks) of every file below it, sorted, so a file added to a sub-folder, a
    /// removed file or a rewritten one (new size or mtime) changes the key. Rewriting a file with the same size
    /// within the same 100 ns goes unnoticed; hashing contents would cost a full read of the data set per call.
    /// </summary>
    public static JsonArray Fingerprint(string spec)
    {
        var parts = new JsonArray();
        foreach (string piece in spec.Split(':', ','))
        {
            if (File.Exists(piece))
            {
                var f = new FileInfo(piece);
                parts.Add($"{Path.GetFullPath(piece)}:{f.Length}:{f.LastWriteTimeUtc.Ticks}");
            }
            else if (Directory.Exists(piece))
                parts.Add(FolderFingerprint(piece));
        }
        return parts;
    }

    private static string FolderFingerprint(string dir)
    {
        var files = new DirectoryInfo(dir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
            .Select(f => (Rel: Path.GetRelativePath(dir, f.FullName), f.Length, f.LastWriteTimeUtc.Ticks))
            .OrderBy(f => f.Rel, StringComparer.Ordinal).ToList();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (rel, length, ticks) in files) hash.AppendData(Encoding.UTF8.GetBytes($"{rel}\0{length}\0{ticks}\n"));
        return $"{Path.GetFullPath(dir)}:{files.Count}:{Convert.ToHexString(hash.GetHashAndReset())}";
    }
}
