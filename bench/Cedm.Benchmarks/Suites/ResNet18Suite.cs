using Cedm.Benchmarks.Harness;
using Cedm.Features.Onnx;
using Cedm.Tensors;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// The pretrained ResNet-18 behind <c>--extractor resnet18</c> (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18,
/// restored by tools/install-deps.sh): cedm's engine port at 224, 128 (the default) and 64 against ONNX Runtime
/// 1.31.1 running the shipped graph at 224 (its only size; the graph fixes batch 1, so ORT runs image by image),
/// 16 images per call, network only (no resize or mean image). Same threads for both (--threads). FLOPs: 1.82 G
/// multiply-adds per 224×224 image, scaled by (size/224)²; images/s is the column to compare.
/// </summary>
public sealed class ResNet18Suite : IBenchSuite
{
    private const int Images = 16;
    private const double MacsAt224 = 1.82e9;

    public string Name => "resnet18";
    public string Description => "ResNet-18 features, 16 images: cedm engine @224/128/64 vs ONNX Runtime @224 (same invocation)";
    public string? PeerScript => null;

    public IReadOnlyList<BenchCase> Cases { get; } =
    [
        new("ort-224", null, Flops(224), OnnxRuntime, Items: Images),
        new("cedm-224", null, Flops(224), () => Ours(224), Items: Images),
        new("cedm-128", null, Flops(128), () => Ours(128), Items: Images),
        new("cedm-64", null, Flops(64), () => Ours(64), Items: Images),
    ];

    private static double Flops(int size) => Images * 2 * MacsAt224 * (size / 224.0) * (size / 224.0);

    private static Tensor Input(int size) => Tensor.Rand(new Rng(3), [Images, 3, size, size], -120f, 120f);

    private static Action Ours(int size)
    {
        var net = OnnxConvNet.Load(PretrainedResNet18.NetworkPath(), PretrainedResNet18.OutputName);
        var x = Input(size);
        return () => net.Forward(x);
    }

    private static Action OnnxRuntime()
    {
        var session = new OnnxRuntimeSession(PretrainedResNet18.NetworkPath(), PretrainedResNet18.OutputName);
        var x = Input(224);
        return () => session.Run(x);
    }
}
