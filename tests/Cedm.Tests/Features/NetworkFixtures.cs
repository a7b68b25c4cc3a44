using Cedm.Data;
using Cedm.IO;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Features;

/// <summary>Helpers shared by the pretrained-network tests: fixture weights as tensors, uint8 images, relative errors.</summary>
internal static class NetworkFixtures
{
    public static string PathOf(string relative) => Path.Combine(AppContext.BaseDirectory, "Fixtures", relative);

    /// <summary>The tensors of a fixture .safetensors file by key.</summary>
    public static Dictionary<string, Tensor> ReadTensors(string relative) =>
        Safetensors.Read(PathOf(relative)).Tensors.ToDictionary(kv => kv.Key, kv => new Tensor(kv.Value.Data, kv.Value.Shape), StringComparer.Ordinal);

    /// <summary>A fixture's uint8 images stored as float [N, H, W, C].</summary>
    public static ImageDataset Images(FixtureFile f, string key)
    {
        var t = f[key];
        var s = t.ShapeArray();
        return new ImageDataset(key, t.Data.Select(v => (byte)v).ToArray(), s[0], s[1], s[2], s[3]);
    }

    /// <summary>max |actual − expected| / max |expected|: the "relative error" reported for whole feature matrices.</summary>
    public static double RelativeError(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.ShapeArray(), actual.ShapeArray());
        double num = 0, den = 0;
        for (int i = 0; i < expected.Size; i++)
        {
            num = Math.Max(num, Math.Abs(expected.Data[i] - actual.Data[i]));
            den = Math.Max(den, Math.Abs(expected.Data[i]));
        }
        return num / den;
    }

    /// <summary>Asserts the 1e-4 relative agreement the brief asks for, element-wise and for the whole matrix.</summary>
    public static void AssertMatches(Tensor expected, Tensor actual, string what, double rtol = 1e-4)
    {
        double rel = RelativeError(expected, actual);
        Assert.True(rel <= rtol, $"{what}: relative error {rel:E2} > {rtol:E0}");
        double scale = expected.Data.Max(v => Math.Abs(v));
        TensorAssert.Close(expected, actual, rtol * scale * 0.1, rtol, what);
    }

    /// <summary>Random tensors with the given layout (full-size shape runs); uniform with the given std, cheaper than normals.</summary>
    public static Dictionary<string, Tensor> RandomTensors(IEnumerable<(string Key, int[] Shape)> layout, Rng rng, float std = 0.02f)
    {
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        float a = std * MathF.Sqrt(3f);
        foreach (var (key, shape) in layout) d[key] = Tensor.Rand(rng, shape, -a, a);
        return d;
    }
}
