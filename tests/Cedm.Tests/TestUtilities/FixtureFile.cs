using System.Text;
using Cedm.Tensors;

namespace Cedm.Tests.TestUtilities;

/// <summary>
/// Reads a "CEDMFIX1" fixture: named float32 tensors written by the PyTorch scripts under tools/fixtures/.
/// Layout (little-endian): magic "CEDMFIX1"; int32 count; per tensor: int32 name length, UTF-8 name,
/// int32 rank, rank × int32 dims, then the row-major float32 values. Generic: any op's fixtures can use it.
/// </summary>
public sealed class FixtureFile
{
    private static readonly byte[] Magic = "CEDMFIX1"u8.ToArray();
    private readonly Dictionary<string, Tensor> _tensors;

    private FixtureFile(string path, Dictionary<string, Tensor> tensors) { Path = path; _tensors = tensors; }

    public string Path { get; }

    public IReadOnlyCollection<string> Names => _tensors.Keys;

    /// <summary>The tensor stored under <paramref name="name"/> (a fresh copy each call, safe to mutate).</summary>
    public Tensor this[string name] => _tensors.TryGetValue(name, out var t)
        ? t.Clone()
        : throw new KeyNotFoundException($"Fixture {Path} has no tensor '{name}' (has: {string.Join(", ", _tensors.Keys)}).");

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>Loads a fixture by path relative to the test output's Fixtures folder, e.g. "ops/conv2d_1x1.bin".</summary>
    public static FixtureFile Load(string relativePath) =>
        Read(System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", relativePath));

    public static FixtureFile Read(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a CEDMFIX1 fixture (bad magic).");
        int count = reader.ReadInt32();
        var tensors = new Dictionary<string, Tensor>(count);
        for (int i = 0; i < count; i++)
        {
            string name = Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadInt32()));
            int rank = reader.ReadInt32();
            if (rank is < 0 or > 8) throw new InvalidDataException($"{path}: tensor '{name}' has implausible rank {rank}.");
            var shape = new int[rank];
            for (int d = 0; d < rank; d++) shape[d] = reader.ReadInt32();
            int size = Shapes.Size(shape);
            var bytes = reader.ReadBytes(checked(size * sizeof(float)));
            if (bytes.Length != size * sizeof(float))
                throw new InvalidDataException($"{path}: tensor '{name}' {Shapes.Format(shape)} is truncated.");
            var data = new float[size];
            // BinaryReader is little-endian on every platform; so is the file.
            if (BitConverter.IsLittleEndian) Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
            else for (int j = 0; j < size; j++) data[j] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(j * 4));
            tensors[name] = new Tensor(data, shape);
        }
        if (reader.BaseStream.Position != reader.BaseStream.Length)
            throw new InvalidDataException($"{path}: {reader.BaseStream.Length - reader.BaseStream.Position} trailing bytes.");
        return new FixtureFile(path, tensors);
    }
}
