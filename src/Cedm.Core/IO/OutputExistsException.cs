namespace Cedm.IO;

/// <summary>
/// An output file is already there and the caller did not allow overwriting it (cli.md: "a command never overwrites
/// an existing output without --force"). The front end says how to allow it.
/// </summary>
public sealed class OutputExistsException(string path) : IOException($"{path} already exists")
{
    public string Path { get; } = path;

    /// <summary>Throws unless <paramref name="overwrite"/> or none of <paramref name="paths"/> exists.</summary>
    public static void ThrowIfAnyExists(bool overwrite, params IEnumerable<string?> paths)
    {
        if (overwrite) return;
        foreach (var p in paths)
            if (p is not null && File.Exists(p)) throw new OutputExistsException(p);
    }
}
