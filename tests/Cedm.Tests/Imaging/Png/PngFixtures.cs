namespace Cedm.Tests.Imaging.Png;

/// <summary>
/// The committed PNG fixtures (tests/Cedm.Tests/Fixtures/png, written by tools/make_png_fixtures.py) and
/// their ".expected" pixel dumps: header line "width height channels bitdepth" then samples [H, W, C]
/// (uint8, or uint16 little-endian at bit depth 16).
/// </summary>
internal static class PngFixtures
{
    public static string Folder { get; } = FindFolder();

    public static string RepositoryRoot => Path.GetFullPath(Path.Combine(Folder, "..", "..", "..", ".."));

    public static IEnumerable<string> Names =>
        Directory.EnumerateFiles(Folder, "*.png").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    public static (int Width, int Height, int Channels, int Depth, ushort[] Samples) ReadExpected(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int newline = Array.IndexOf(bytes, (byte)'\n');
        int[] h = System.Text.Encoding.ASCII.GetString(bytes, 0, newline).Split(' ').Select(int.Parse).ToArray();
        var body = bytes.AsSpan(newline + 1);
        ushort[] samples = h[3] == 16
            ? Enumerable.Range(0, body.Length / 2).Select(i => (ushort)(bytes[newline + 1 + 2 * i] | bytes[newline + 2 + 2 * i] << 8)).ToArray()
            : body.ToArray().Select(b => (ushort)b).ToArray();
        return (h[0], h[1], h[2], h[3], samples);
    }

    /// <summary>Writes a dump in the same format (8-bit), for tools/make_png_fixtures.py --verify.</summary>
    public static void WriteExpected(string path, int width, int height, int channels, ReadOnlySpan<byte> samples)
    {
        using var f = File.Create(path);
        f.Write(System.Text.Encoding.ASCII.GetBytes($"{width} {height} {channels} 8\n"));
        f.Write(samples);
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Cedm.Tests", "Fixtures", "png");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/Cedm.Tests/Fixtures/png not found above " + AppContext.BaseDirectory);
    }
}
