using Cedm.Benchmarks.Harness;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// Conv2d 3×3, 64→64 channels, padding 1, input [64, 64, 32, 32] (a SongUNet 32×32 level, spec §2.1):
/// forward, and forward + backward for x, weight and bias. Peer: torch.nn.functional.conv2d (oneDNN).
/// Our cases run once per threading strategy of <see cref="Conv2dKernels"/> so the table shows why Auto picks what it picks.
/// Plus forward+backward at batch 32 on 16×16 and 8×8 (the deeper levels of the training nets).
/// FLOPs (for GFLOP/s): nominal direct-convolution count, 2·N·Cout·Cin·9·H·W forward and 2× that backward
/// (data + weight gradients), for both sides, although all three of our passes run Winograd F(2×2,3×3)
/// with 2.25× fewer GEMM multiplies, so our "GFLOP/s" is an effective rate.
/// </summary>
public sealed class ConvSuite : IBenchSuite
{
    private const int N = 64, C = 64, H = 32, W = 32;

    public string Name => "conv";
    public string Description => "conv2d 3x3 64->64 pad 1 on [64,64,32,32]: forward and forward+backward vs torch";
    public string? PeerScript => "conv.py";

    public IReadOnlyList<BenchCase> Cases { get; } = BuildCases();

    private static List<BenchCase> BuildCases()
    {
        double fwd = 2.0 * N * C * C * 9 * H * W;
        var cases = new List<BenchCase>();
        foreach (var mode in new[] { ConvThreading.Auto, ConvThreading.SamplesShared, ConvThreading.SerialSamples })
        {
            string tag = mode.ToString().ToLowerInvariant();
            cases.Add(new BenchCase($"conv3x3-fwd/{tag}", "conv3x3-fwd", fwd, () => Setup(mode, backward: false)));
            cases.Add(new BenchCase($"conv3x3-fwdbwd/{tag}", "conv3x3-fwdbwd", 3 * fwd, () => Setup(mode, backward: true)));
        }
        // "/portable": the channels-innermost Winograd path switched off (Winograd3x3 with GEMMs), for comparison.
        cases.Add(new BenchCase("conv3x3-fwd/portable", "conv3x3-fwd", fwd, () => Setup(ConvThreading.Auto, backward: false, hwc: false)));
        cases.Add(new BenchCase("conv3x3-fwdbwd/portable", "conv3x3-fwdbwd", 3 * fwd, () => Setup(ConvThreading.Auto, backward: true, hwc: false)));
        // The small-image levels of the training nets (tiny/small presets at batch 32): few Winograd tiles per
        // image, so samples are grouped into shared GEMMs; "/ungrouped" = one image per GEMM set, for comparison.
        foreach (int side in new[] { 16, 8 })
        {
            double f = 2.0 * 32 * C * C * 9 * side * side;
            string peer = $"conv3x3-b32-{side}x{side}-fwdbwd";
            cases.Add(new BenchCase($"{peer}/auto", peer, 3 * f, () => Setup(ConvThreading.Auto, backward: true, 32, side)));
            cases.Add(new BenchCase($"{peer}/ungrouped", peer, 3 * f, () => Setup(ConvThreading.Auto, backward: true, 32, side, targetTiles: 1)));
            cases.Add(new BenchCase($"{peer}/portable", peer, 3 * f, () => Setup(ConvThreading.Auto, backward: true, 32, side, hwc: false)));
            cases.Add(new BenchCase($"conv3x3-b32-{side}x{side}-fwd/auto", $"conv3x3-b32-{side}x{side}-fwd", f, () => Setup(ConvThreading.Auto, backward: false, 32, side)));
            cases.Add(new BenchCase($"conv3x3-b32-{side}x{side}-fwd/portable", $"conv3x3-b32-{side}x{side}-fwd", f, () => Setup(ConvThreading.Auto, backward: false, 32, side, hwc: false)));
        }
        return cases;
    }

    private static Action Setup(ConvThreading mode, bool backward, int n = N, int side = H, int? targetTiles = null, bool hwc = true)
    {
        var rng = new Rng(1234);
        var x = Tensor.Randn(rng, [n, C, side, side]);
        var w = Tensor.Randn(rng, [C, C, 3, 3], std: 1f / 24f);
        var b = Tensor.Randn(rng, [C], std: 0.1f);
        var gy = Tensor.Randn(rng, [n, C, side, side]);
        if (!backward)
            return () =>
            {
                using var policy = EnginePolicy.Override(p => p with { ConvThreading = mode, Avx512Winograd = hwc });
                using var _ = Tensors.Autograd.GradMode.NoGrad();
                Tensor.Conv2d(x, w, b, stride: 1, padding: 1);
            };
        x.RequireGrad(); w.RequireGrad(); b.RequireGrad();
        return () =>
        {
            using var policy = EnginePolicy.Override(p => p with
            {
                ConvThreading = mode,
                Avx512Winograd = hwc,
                WinogradTargetTiles = targetTiles ?? p.WinogradTargetTiles,
            });
            x.ZeroGrad(); w.ZeroGrad(); b.ZeroGrad();
            Tensor.Conv2d(x, w, b, stride: 1, padding: 1).Backward(gy);
        };
    }
}
