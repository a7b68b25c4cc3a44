namespace Cedm.IO;

/// <summary>
/// cedm's cache root: $CEDM_CACHE, else $XDG_CACHE_HOME/cedm, else ~/.cache/cedm (the XDG base-directory rule, so a
/// user who moves caches elsewhere moves ours too). Holds the evaluator's reference statistics and fetched data sets.
/// </summary>
public static class CacheFolder
{
    public static string Root()
    {
        string? explicitRoot = Environment.GetEnvironmentVariable("CEDM_CACHE");
        if (!string.IsNullOrWhiteSpace(explicitRoot)) return explicitRoot;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg)) return Path.Combine(xdg, "cedm");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "cedm");
    }
}
