using System.Runtime.Intrinsics;
using Cedm.Tensors.Autograd;
using Cedm.Tensors.Kernels;
using Cedm.Tensors.Native;

namespace Cedm.Tensors;

/// <summary>
/// What the engine runs on, and a few quick numerical checks a user can run on their machine (`cedm selfcheck`):
/// GEMM back-ends agree, backward matches finite differences, and a tiny classifier learns.
/// </summary>
public static class EngineSelfCheck
{
    public sealed record Check(string Name, bool Passed, string Detail);

    /// <summary>The runtime, the engine policy in force (<see cref="EnginePolicy.Describe"/>), and the native and SIMD back-ends.</summary>
    public static IReadOnlyList<(string Key, string Value)> Describe() =>
    [
        ("runtime", $".NET {Environment.Version}, {Environment.ProcessorCount} cores"),
        .. EnginePolicy.Current.Describe(),
        ("openblas", OpenBlas.IsAvailable ? $"{OpenBlas.LibraryName}, core {OpenBlas.CoreName ?? "?"}" + (OpenBlas.CoreTypeOverride != null ? $" (OPENBLAS_CORETYPE={OpenBlas.CoreTypeOverride} set by cedm)" : "") : $"not loaded: {OpenBlas.LoadError}"),
        ("managed gemm kernel", GemmManaged.Resolve(ManagedKernel.Auto).ToString()),
        ("simd", $"Vector512 {(Vector512.IsHardwareAccelerated ? "yes" : "no")}, Vector256 {(Vector256.IsHardwareAccelerated ? "yes" : "no")}"),
    ];

    public static IReadOnlyList<Check> Run(ulong seed = 0) => [GemmBackendsAgree(seed), BackwardMatchesFiniteDifferences(seed), TinyClassifierLearns(seed)];

    private static Check GemmBackendsAgree(ulong seed)
    {
        const int m = 67, n = 45, k = 89;
        var rng = new Rng(seed);
        var a = Tensor.Randn(rng, [m, k]).Data;
        var b = Tensor.Randn(rng, [k, n]).Data;
        var reference = new float[m * n];
        Gemm.Sgemm(GemmBackend.Reference, false, false, m, n, k, 1f, a, k, b, n, 0f, reference, n);
        var backends = new List<GemmBackend> { GemmBackend.Managed };
        if (OpenBlas.IsAvailable) backends.Add(GemmBackend.OpenBlas);
        double worst = 0;
        foreach (var backend in backends)
        {
            var c = new float[m * n];
            Gemm.Sgemm(backend, false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
            for (int i = 0; i < c.Length; i++) worst = Math.Max(worst, Math.Abs(c[i] - reference[i]));
        }
        // Entries are sums of 89 products of unit normals (|c| ~ 10); float32 rounding stays far below 1e-3.
        return new Check("gemm back-ends agree", worst < 1e-3, $"{string.Join(", ", backends)} vs reference: max |diff| {worst:G3}");
    }

    private static Check BackwardMatchesFiniteDifferences(ulong seed)
    {
        var rng = new Rng(seed + 1);
        var x = Tensor.Randn(rng, [4, 5]).RequireGrad();
        var w = Tensor.Randn(rng, [3, 5]).RequireGrad();
        var bias = Tensor.Randn(rng, [3]).RequireGrad();
        var r = GradCheck.Check(t => Tensor.Linear(t[0], t[1], t[2]).Gelu().LogSoftmax(-1), [x, w, bias]);
        return new Check("backward matches finite differences", r.Passed, r.ToString());
    }

    private static Check TinyClassifierLearns(ulong seed)
    {
        // Two Gaussian blobs 4σ apart: a linear classifier trained by plain gradient descent separates ~98% of them.
        var rng = new Rng(seed + 2);
        const int n = 200;
        var x = Tensor.Randn(rng, [n, 2]);
        var labels = new int[n];
        for (int i = 0; i < n; i++) { labels[i] = i % 2; x.Data[i * 2] += labels[i] == 0 ? -2f : 2f; }
        var w = Tensor.Zeros(2, 2).RequireGrad();
        var b = Tensor.Zeros(2).RequireGrad();
        float first = 0, last = 0;
        for (int step = 0; step < 50; step++)
        {
            var loss = Tensor.CrossEntropy(Tensor.Linear(x, w, b), labels);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            w.ZeroGrad(); b.ZeroGrad();
            loss.Backward();
            for (int i = 0; i < w.Size; i++) w.Data[i] -= 0.5f * w.Grad!.Data[i];
            for (int i = 0; i < b.Size; i++) b.Data[i] -= 0.5f * b.Grad!.Data[i];
        }
        int[] predicted;
        using (GradMode.NoGrad()) predicted = Tensor.Linear(x, w, b).ArgMaxLastAxis();
        double accuracy = predicted.Zip(labels).Count(p => p.First == p.Second) / (double)n;
        return new Check("tiny classifier learns", accuracy >= 0.95 && last < first / 2,
            $"loss {first:F3} -> {last:F3}, accuracy {accuracy:P1} after 50 steps");
    }
}
