using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Cedm.IO;

/// <summary>Byte-level views and stream helpers shared by the .npy and .safetensors code.</summary>
internal static class RawBytes
{
    /// <summary>
    /// The bytes of a one-dimensional primitive array (any holder type of <see cref="DType"/>), without copying.
    /// Both formats store little-endian elements back to back, which is exactly the in-memory layout on
    /// little-endian hosts, so reads and writes are plain block copies.
    /// </summary>
    public static Span<byte> Of(Array a, int elementSize) =>
        MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(a), checked(a.Length * elementSize));

    /// <summary>Reverses the byte order of every element in place (for big-endian .npy data).</summary>
    public static void SwapInPlace(Span<byte> bytes, int elementSize)
    {
        switch (elementSize)
        {
            case 1: break;
            case 2: { var v = MemoryMarshal.Cast<byte, ushort>(bytes); BinaryPrimitives.ReverseEndianness(v, v); break; }
            case 4: { var v = MemoryMarshal.Cast<byte, uint>(bytes); BinaryPrimitives.ReverseEndianness(v, v); break; }
            case 8: { var v = MemoryMarshal.Cast<byte, ulong>(bytes); BinaryPrimitives.ReverseEndianness(v, v); break; }
            default: throw new ArgumentOutOfRangeException(nameof(elementSize));
        }
    }

    /// <summary>
    /// Readers need the stream length up front to reject impossible sizes before allocating. A non-seekable
    /// stream is copied into memory first; that buffer only grows with bytes that really exist, so a lying
    /// header still cannot trigger a huge allocation.
    /// </summary>
    public static Stream Seekable(Stream s) 
    {
        if (s.CanSeek) return s;
        var ms = new MemoryStream();
        s.CopyTo(ms);
        ms.Position = 0;
        return ms;
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes; returns how many were available.</summary>
    public static int ReadUpTo(Stream s, Span<byte> buffer) => s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
}
