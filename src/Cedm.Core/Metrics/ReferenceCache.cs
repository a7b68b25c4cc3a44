using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cedm.Metrics;

/// <summary>
/// Where `cedm eval` keeps the statistics of real data per (source, evaluator, transform, subsampling): under
/// $CEDM_CACHE, else $XDG_CACHE_HOME/cedm, else ~/.cache/cedm, in eval-reference/&lt;hash of the key&gt;/. The key
/// includes size and modification time of every file the source or evaluator names, so an edited file misses.
/// </summary>
public static class ReferenceCache
{
    public const int FormatVersion = 1;

    public static string Root()
    {
        string? explicitRoot = Environment.GetEnvironmentVariable("CEDM_CACHE");
        if (!string.IsNullOrWhiteSpace(explicitRoot)) return explicitRoot;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg)) return Path.Combine(xdg, "cedm");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "cedm");
    }

    /// <summary>The cache folder for <paramref name="key"/> (not created).</summary>
    public static string Folder(JsonObject key)
    {
        key["format"] = FormatVersion;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key.ToJsonString()));
        return Path.Combine(Root(), "eval-reference", Convert.ToHexString(hash, 0, 10).ToLowerInvariant());
    }

    /// <summary>"size:mtime" of each path-like part of a spec ("npy:a.npy,b.npy", "vit:w.safetensors"), for cache keys.</summary>
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
                parts.Add($"{Path.GetFullPath(piece)}:{Directory.GetLastWriteTimeUtc(piece).Ticks}");
        }
        return parts;
    }
}
