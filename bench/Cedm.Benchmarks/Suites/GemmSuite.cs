using Cedm.Benchmarks.Harness;
using Cedm.Tensors.Kernels;
using Cedm.Tensors.Native;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// Square SGEMM C = A·B at 512/1024/2048 on OpenBLAS and on our managed kernel; peer: torch.mm.
/// GFLOP/s = 2n³ / t (one multiply + one add per inner-product term).
/// </summary>
public sealed class GemmSuite : IBenchSuite
{
    private static readonly int[] Sizes = [512, 1024, 2048];

    public string Name => "gemm";
    public string Description => "sgemm square 512/1024/2048: OpenBLAS vs managed vs torch.mm";
    public string? PeerScript => "gemm.py";

    public IReadOnlyList<BenchCase> Cases { get; } = BuildCases();

    private static List<BenchCase> BuildCases()
    {
        var cases = new List<BenchCase>();
        foreach (int n in Sizes)
        {
            double flops = 2.0 * n * n * n;
            if (OpenBlas.IsAvailable)
                cases.Add(new BenchCase($"sgemm-{n}/openblas", $"sgemm-{n}", flops, () => Square(n, GemmBackend.OpenBlas)));
            cases.Add(new BenchCase($"sgemm-{n}/managed", $"sgemm-{n}", flops, () => Square(n, GemmBackend.Managed)));
        }
        // The skinny GEMMs of a TEMI head's first layer at the default preset (x [2048, 512], W [64, 512]):
        // forward x·Wᵀ, the weight gradient Gᵀ·x and the input gradient G·W. No peer (torch runs them inside "temi").
        foreach (var (name, ta, tb, m, n, k) in Skinny)
        {
            double flops = 2.0 * m * n * k;
            if (OpenBlas.IsAvailable)
                cases.Add(new BenchCase($"{name}/openblas", null, flops, () => Shaped(ta, tb, m, n, k, GemmBackend.OpenBlas)));
            cases.Add(new BenchCase($"{name}/managed", null, flops, () => Shaped(ta, tb, m, n, k, GemmBackend.Managed)));
        }
        return cases;
    }

    private static readonly (string Name, bool TransA, bool TransB, int M, int N, int K)[] Skinny =
    [
        ("temi-fwd-2048x64x512", false, true, 2048, 64, 512),
        ("temi-dw-64x512x2048", true, false, 64, 512, 2048),
        ("temi-dx-2048x512x64", false, false, 2048, 512, 64),
    ];

    private static Action Shaped(bool ta, bool tb, int m, int n, int k, GemmBackend backend)
    {
        var rng = new Random(1234);
        float[] a = RandomMatrix(rng, m * k), b = RandomMatrix(rng, k * n), c = new float[m * n];
        int lda = ta ? m : k, ldb = tb ? k : n;
        return () => Gemm.Sgemm(backend, ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
    }

    private static Action Square(int n, GemmBackend backend)
    {
        var rng = new Random(1234);
        float[] a = RandomMatrix(rng, n * n), b = RandomMatrix(rng, n * n), c = new float[n * n];
        return () => Gemm.Sgemm(backend, false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
    }

    private static float[] RandomMatrix(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
