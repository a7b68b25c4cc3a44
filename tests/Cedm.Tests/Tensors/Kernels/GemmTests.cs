using Cedm.Tensors;
using Cedm.Tensors.Kernels;
using Cedm.Tensors.Native;
using FluentAssertions;

namespace Cedm.Tests.Tensors.Kernels;

/// <summary>
/// Every GEMM back-end against <see cref="GemmReference"/> (double accumulation) on shapes chosen to hit every
/// micro-kernel tail (MR = 12/6/4, NR = 32/16/8), every blocking boundary and all transpose combinations.
/// </summary>
public class GemmTests
{
    /// <summary>
    /// Float32 results vs the double-accumulated reference. Inputs are in [-1, 1], so |C| is O(sqrt k) and
    /// the float rounding error of a k-term sum (in any summation order, FMA or not) is a few ulps of
    /// sqrt(k) * k^0.5: 1e-4 relative plus 1e-4 * k absolute covers k up to ~1000 with margin, while any
    /// indexing bug (a missed or duplicated term) produces errors of order 0.1-1.
    /// </summary>
    private const float RelTol = 1e-4f;
    private const float AbsTolPerK = 1e-4f;

    public static readonly TheoryData<string> Backends = BackendNames();

    private static TheoryData<string> BackendNames()
    {
        var d = new TheoryData<string> { "managed", "managed-vector128" };
        if (GemmManaged.Resolve(ManagedKernel.Auto) == ManagedKernel.Avx512)
            d.Add("managed-avx512");
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)
            d.Add("managed-avx2");
        // OpenBLAS has its own [OpenBlasFact] tests below so they can be reported as skipped when it is missing.
        return d;
    }

    /// <summary>Runs one back-end through the validating entry point (or the managed kernel directly).</summary>
    private static void Run(string backend, bool ta, bool tb, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc, int threads = 2)
    {
        switch (backend)
        {
            case "openblas": Gemm.Sgemm(GemmBackend.OpenBlas, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
            case "reference": Gemm.Sgemm(GemmBackend.Reference, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
            case "managed": Gemm.Sgemm(GemmBackend.Managed, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); break;
            default:
                var kernel = backend switch
                {
                    "managed-avx512" => ManagedKernel.Avx512,
                    "managed-avx2" => ManagedKernel.Avx2,
                    "managed-vector128" => ManagedKernel.Vector128,
                    _ => throw new ArgumentException(backend),
                };
                GemmManaged.Sgemm(kernel, threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                break;
        }
    }

    /// <summary>
    /// A stored rows×cols matrix with row stride ld: values in [-1, 1], padding between rows = NaN, so a
    /// back-end that reads outside the matrix poisons C and fails the comparison.
    /// </summary>
    private static float[] Matrix(Random rng, int rows, int cols, int ld)
    {
        var x = new float[rows == 0 ? 0 : (rows - 1) * ld + cols];
        Array.Fill(x, float.NaN);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                x[i * ld + j] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Builds inputs, runs backend and reference on copies of C, compares all of C (padding included).</summary>
    private static void CheckAgainstReference(string backend, bool ta, bool tb, int m, int n, int k,
        float alpha, float beta, int padA, int padB, int padC, int seed, int threads = 2)
    {
        var rng = new Random(seed);
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + padA, ldb = bCols + padB, ldc = n + padC;
        float[] a = Matrix(rng, aRows, aCols, lda), b = Matrix(rng, bRows, bCols, ldb);
        float[] c0 = Matrix(rng, m, n, ldc);
        // C's padding is a sentinel that must survive untouched (NaN would not compare equal to itself).
        for (int i = 0; i < c0.Length; i++)
            if (float.IsNaN(c0[i])) c0[i] = 12345f;
        if (beta == 0f)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    c0[i * ldc + j] = float.NaN; // beta = 0: C is write-only, its NaN must be ignored

        float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
        Gemm.Sgemm(GemmBackend.Reference, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        Run(backend, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, actual, ldc, threads);

        float absTol = AbsTolPerK * Math.Max(1, k) * Math.Max(1f, Math.Abs(alpha));
        for (int i = 0; i < actual.Length; i++)
        {
            float e = expected[i], got = actual[i];
            float tol = absTol + RelTol * Math.Abs(e);
            if (!(Math.Abs(got - e) <= tol))
                throw new Xunit.Sdk.XunitException(
                    $"{backend} ta={ta} tb={tb} m={m} n={n} k={k} alpha={alpha} beta={beta} lds=({lda},{ldb},{ldc}) threads={threads}: " +
                    $"C[{i / ldc},{i % ldc}] = {got}, expected {e} (tol {tol})");
        }
    }

    private static readonly (bool, bool)[] Transposes = [(false, false), (true, false), (false, true), (true, true)];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Matches_reference_over_odd_shapes_all_transposes(string backend)
    {
        // Sizes around every MR/NR multiple (4, 6, 8, 12, 16, 32) and odd ones, 1..70, plus random triples.
        int[] sizes = [1, 2, 3, 5, 7, 8, 11, 12, 13, 16, 17, 23, 31, 32, 33, 47, 64, 65, 70];
        var rng = new Random(42);
        int seed = 0;
        foreach (var (ta, tb) in Transposes)
        {
            foreach (int s in sizes)
                CheckAgainstReference(backend, ta, tb, s, sizes[(seed * 7 + 3) % sizes.Length], sizes[(seed * 5 + 1) % sizes.Length],
                    1f, 0f, 0, 0, 0, seed++);
            for (int t = 0; t < 12; t++)
                CheckAgainstReference(backend, ta, tb, rng.Next(1, 71), rng.Next(1, 71), rng.Next(1, 71),
                    1f, 0f, 0, 0, 0, seed++);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Honours_strides_alpha_and_beta(string backend)
    {
        (float alpha, float beta)[] scalars = [(1f, 1f), (-0.5f, 0.25f), (2f, 0f), (1f, -1f), (0.75f, 1f)];
        int seed = 100;
        foreach (var (ta, tb) in Transposes)
            foreach (var (alpha, beta) in scalars)
                CheckAgainstReference(backend, ta, tb, 29, 37, 19, alpha, beta, padA: 3, padB: 5, padC: 7, seed++);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Crosses_cache_blocks_and_thread_splits(string backend)
    {
        // k = 600 spans several KC slices (beta applied once, later slices accumulate); m = 200 spans MC
        // blocks; n = 2100 with tiny m/k spans NC blocks. Threads 1/2/3 exercise row, column and uneven splits.
        CheckAgainstReference(backend, false, false, 200, 75, 600, 1f, 0.5f, 1, 2, 3, seed: 7, threads: 2);
        CheckAgainstReference(backend, true, true, 97, 130, 300, -1f, 0f, 0, 0, 0, seed: 8, threads: 3);
        CheckAgainstReference(backend, false, true, 13, 2100, 5, 1f, 1f, 0, 1, 0, seed: 9, threads: 2);
        CheckAgainstReference(backend, true, false, 150, 40, 257, 1f, 0f, 0, 0, 0, seed: 10, threads: 1);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Degenerate_sizes_follow_blas(string backend)
    {
        // m or n = 0: nothing is touched, and empty spans are fine.
        Run(backend, false, false, 0, 5, 3, 1f, [], 3, new float[15], 5, 0f, [], 5);
        Run(backend, false, false, 4, 0, 3, 1f, new float[12], 3, [], 0, 0f, [], 0);
        // k = 0: C = beta * C (beta = 0 clears NaN).
        float[] c = [1f, 2f, float.NaN, 4f];
        Run(backend, false, false, 2, 2, 0, 1f, [], 0, [], 2, 0.5f, c, 2);
        c.Take(2).Should().Equal(0.5f, 1f);
        Run(backend, false, false, 2, 2, 0, 1f, [], 0, [], 2, 0f, c, 2);
        c.Should().Equal(0f, 0f, 0f, 0f);
        // alpha = 0: A and B are not read (NaN there must not leak), C = beta * C.
        float[] nan = [float.NaN, float.NaN, float.NaN, float.NaN];
        float[] c2 = [1f, 2f, 3f, 4f];
        Run(backend, false, false, 2, 2, 2, 0f, nan, 2, nan, 2, 2f, c2, 2);
        c2.Should().Equal(2f, 4f, 6f, 8f);
    }

    [OpenBlasFact]
    public void OpenBlas_matches_reference_over_odd_shapes_all_transposes() => Matches_reference_over_odd_shapes_all_transposes("openblas");

    [OpenBlasFact]
    public void OpenBlas_honours_strides_alpha_and_beta() => Honours_strides_alpha_and_beta("openblas");

    [OpenBlasFact]
    public void OpenBlas_crosses_blocks() => Crosses_cache_blocks_and_thread_splits("openblas");

    [OpenBlasFact]
    public void OpenBlas_degenerate_sizes_follow_blas() => Degenerate_sizes_follow_blas("openblas");

    [OpenBlasFact]
    public void Managed_and_openblas_agree_on_a_larger_product()
    {
        var rng = new Random(3);
        const int m = 130, n = 257, k = 300;
        float[] a = Matrix(rng, m, k, k), b = Matrix(rng, k, n, n);
        float[] c1 = new float[m * n], c2 = new float[m * n];
        Gemm.Sgemm(GemmBackend.OpenBlas, false, false, m, n, k, 1f, a, k, b, n, 0f, c1, n);
        Gemm.Sgemm(GemmBackend.Managed, false, false, m, n, k, 1f, a, k, b, n, 0f, c2, n);
        for (int i = 0; i < c1.Length; i++)
            c2[i].Should().BeApproximately(c1[i], AbsTolPerK * k + RelTol * Math.Abs(c1[i]), "element {0}", i);
    }

    [Fact]
    public void Auto_backend_resolves_to_a_concrete_one()
    {
        Gemm.ActiveBackend.Should().NotBe(GemmBackend.Auto);
        if (EnginePolicy.Current.GemmBackend == GemmBackend.Auto)
            Gemm.ActiveBackend.Should().Be(OpenBlas.IsAvailable ? GemmBackend.OpenBlas : GemmBackend.Managed);
        // The public entry point runs whatever is active.
        float[] c = new float[4];
        Gemm.Sgemm(false, false, 2, 2, 2, 1f, [1f, 2f, 3f, 4f], 2, [5f, 6f, 7f, 8f], 2, 0f, c, 2);
        c.Should().Equal(19f, 22f, 43f, 50f);
    }

    [OpenBlasFact]
    public void OpenBlas_reports_its_kernel_family()
    {
        // Diagnostics (bench header, selfcheck) rely on this; "Prescott" here would mean the slow generic kernels.
        OpenBlas.CoreName.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void Rejects_bad_arguments_with_named_parameters()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        Action Call(int m, int n, int k, float[] aa, int lda, float[] bb, int ldb, float[] cc, int ldc, bool ta = false) =>
            () => Gemm.Sgemm(ta, false, m, n, k, 1f, aa, lda, bb, ldb, 0f, cc, ldc);

        Call(-1, 2, 3, a, 3, b, 2, c, 2).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("m");
        Call(2, -2, 3, a, 3, b, 2, c, 2).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("n");
        Call(2, 2, -3, a, 3, b, 2, c, 2).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("k");
        Call(2, 2, 3, a, 2, b, 2, c, 2).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "lda" && e.Message.Contains("row length 3"));
        Call(2, 2, 3, a, 3, b, 1, c, 2).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("ldb");
        Call(2, 2, 3, a, 3, b, 2, c, 1).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("ldc");
        Call(2, 2, 3, new float[5], 3, b, 2, c, 2).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "a" && e.Message.Contains("5 elements") && e.Message.Contains("needs 6"));
        // transA: A is stored k×m = 3×2, so lda = 2 is fine but lda = 1 is not.
        Call(2, 2, 3, a, 2, b, 2, c, 2, ta: true).Should().NotThrow();
        Call(2, 2, 3, a, 1, b, 2, c, 2, ta: true).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("lda");
        Call(2, 2, 3, a, 3, new float[5], 2, c, 2).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("b");
        Call(2, 2, 3, a, 3, b, 2, new float[3], 2).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("c");
        // C aliasing an input would corrupt the inputs mid-computation.
        float[] shared = new float[16];
        FluentActions.Invoking(() => Gemm.Sgemm(false, false, 2, 2, 2, 1f, shared.AsSpan(0, 4), 2, shared.AsSpan(8, 4), 2, 0f, shared.AsSpan(2, 4), 2))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("c");
    }
}

/// <summary>A fact that is reported as skipped (with the install command) when OpenBLAS cannot be loaded.</summary>
public sealed class OpenBlasFactAttribute : FactAttribute
{
    public OpenBlasFactAttribute()
    {
        if (!OpenBlas.IsAvailable)
            Skip = "OpenBLAS not available: " + OpenBlas.LoadError;
    }
}
