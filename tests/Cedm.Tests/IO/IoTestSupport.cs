using System.Text.Json;

namespace Cedm.Tests.IO;

/// <summary>Access to the NumPy-made golden files and their expectations (tools/make_io_fixtures.py).</summary>
internal static class IoFixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "io");

    public static string PathOf(string name) => Path.Combine(Dir, name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    private static readonly Lazy<JsonElement> ExpectedLazy = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(PathOf("expected.json"))).RootElement);

    public static JsonElement Expected => ExpectedLazy.Value;

    public static int[] Ints(JsonElement arr) => arr.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}

/// <summary>Helpers shared by the I/O tests.</summary>
internal static class IoAssert
{
    /// <summary>Runs <paramref name="read"/> and requires an InvalidDataException whose message starts with "name: ".</summary>
    public static InvalidDataException Rejects(string name, Action read)
    {
        try
        {
            read();
        }
        catch (InvalidDataException e)
        {
            Assert.StartsWith(name + ": ", e.Message);
            return e;
        }
        catch (Exception e)
        {
            Assert.Fail($"expected InvalidDataException, got {e.GetType().Name}: {e.Message}");
        }
        Assert.Fail("expected InvalidDataException, but the read succeeded");
        return null!;
    }

    /// <summary>Bits of float data, so NaN/-0 compare exactly.</summary>
    public static uint[] Bits(float[] a) => a.Select(BitConverter.SingleToUInt32Bits).ToArray();

    /// <summary>A stream that hides CanSeek, to exercise the non-seekable path.</summary>
    public sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A fresh empty temp directory, removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("cedm-io-").FullName;
        public string this[string name] => System.IO.Path.Combine(Path, name);
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }
}
