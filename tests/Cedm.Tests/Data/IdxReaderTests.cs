using System.IO.Compression;
using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

public class IdxReaderTests
{
    private static string Write(byte[] bytes, bool gzip)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cedm-idx-{Guid.NewGuid():N}" + (gzip ? ".gz" : ".idx"));
        using var file = File.Create(path);
        using Stream s = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        s.Write(bytes);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsShapeAndData(bool gzip)
    {
        string path = Write([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6], gzip);
        try
        {
            var (data, shape) = IdxReader.ReadUInt8(path);
            shape.Should().Equal(2, 3);
            data.Should().Equal(1, 2, 3, 4, 5, 6);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TruncatedFileIsAClearError()
    {
        string path = Write([0, 0, 8, 1, 0, 0, 0, 9, 1, 2], gzip: true);
        try
        {
            var act = () => IdxReader.ReadUInt8(path);
            act.Should().Throw<InvalidDataException>().WithMessage("*truncated*");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void NonByteTypeIsRejected()
    {
        string path = Write([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], gzip: false);
        try
        {
            var act = () => IdxReader.ReadUInt8(path);
            act.Should().Throw<InvalidDataException>().WithMessage("*not an unsigned-byte IDX file*");
        }
        finally { File.Delete(path); }
    }
}
