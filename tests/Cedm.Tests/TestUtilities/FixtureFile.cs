using System.Buffers.Binary;
using System.Text;

namespace Cedm.Tests.TestUtilities;

/// <summary>
/// Reads the tensor fixtures written by tools/fixtures/*.py: little-endian; magic "CEDMFIX1"; int32 tensor count;
/// per tensor: int32 name length, UTF-8 name, int32 rank, int32 dims…, float32 data (row-major).
/// </summary>
public static class FixtureFile
{
    /// <summary>Resolves a path relative to the test output's Fixtures folder (copied there by the csproj).</summary>
    public static string PathOf(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static Dictionary<string, (int[] Shape, float[] Data)> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int pos = 0;
        ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || pos + n > bytes.Length) throw new InvalidDataException($"{path}: truncated at byte {pos} (needed {n} more).");
            var s = bytes.AsSpan(pos, n);
            pos += n;
            return s;
        }
        int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        if (!Take(8).SequenceEqual("CEDMFIX1"u8)) throw new InvalidDataException($"{path}: bad magic (expected CEDMFIX1).");
        int count = Int();
        var result = new Dictionary<string, (int[], float[])>(count, StringComparer.Ordinal);
        for (int t = 0; t < count; t++)
        {
            string name = Encoding.UTF8.GetString(Take(Int()));
            int rank = Int();
            if (rank < 0 || rank > 16) throw new InvalidDataException($"{path}: tensor '{name}' has rank {rank}.");
            var shape = new int[rank];
            long size = 1;
            for (int i = 0; i < rank; i++) { shape[i] = Int(); size *= shape[i]; }
            if (size < 0 || size * 4 > bytes.Length - pos) throw new InvalidDataException($"{path}: tensor '{name}' ({size} elements) runs past the end.");
            var data = new float[size];
            var raw = Take((int)size * 4);
            for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i, 4));
            if (!result.TryAdd(name, (shape, data))) throw new InvalidDataException($"{path}: duplicate tensor '{name}'.");
        }
        if (pos != bytes.Length) throw new InvalidDataException($"{path}: {bytes.Length - pos} trailing bytes.");
        return result;
    }
}
