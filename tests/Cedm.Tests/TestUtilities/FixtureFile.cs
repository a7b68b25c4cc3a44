using System.Text;

namespace Cedm.Tests.TestUtilities;

/// <summary>
/// Reads the CEDMFIX1 golden-fixture files written by tools/fixtures/*.py (format in tools/fixtures/fixture_format.py):
/// magic "CEDMFIX1", int32 count, then per tensor: int32 name length, UTF-8 name, int32 rank, int32 dims, float32 data.
/// </summary>
public static class FixtureFile
{
    public static string PathOf(string relative) => Path.Combine(AppContext.BaseDirectory, "Fixtures", relative);

    public static Dictionary<string, (int[] Shape, float[] Data)> Read(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        var magic = Encoding.ASCII.GetString(r.ReadBytes(8));
        if (magic != "CEDMFIX1")
            throw new InvalidDataException($"{path}: not a CEDMFIX1 fixture (magic '{magic}'). HINT: re-run the tools/fixtures script that made it.");
        int count = r.ReadInt32();
        var result = new Dictionary<string, (int[], float[])>();
        for (int t = 0; t < count; t++)
        {
            string name = Encoding.UTF8.GetString(r.ReadBytes(r.ReadInt32()));
            var shape = new int[r.ReadInt32()];
            for (int i = 0; i < shape.Length; i++) shape[i] = r.ReadInt32();
            var data = new float[shape.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < data.Length; i++) data[i] = r.ReadSingle();
            result[name] = (shape, data);
        }
        return result;
    }

    public static Cedm.Tensors.Tensor Tensor(this Dictionary<string, (int[] Shape, float[] Data)> f, string name)
    {
        if (!f.TryGetValue(name, out var t)) throw new KeyNotFoundException($"Fixture has no tensor '{name}' (has: {string.Join(", ", f.Keys)}).");
        return new Cedm.Tensors.Tensor((float[])t.Data.Clone(), t.Shape);
    }
}
