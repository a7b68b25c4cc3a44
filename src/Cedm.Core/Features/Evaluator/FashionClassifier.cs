using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Features.Evaluator;

/// <summary>
/// The Fashion-MNIST evaluator network (our analogue of FID's Inception-v3): a small CNN classifier on 28×28×1
/// images in [−1, 1]. Sized for two CPU cores: conv3×3 1→32, GN, ReLU, 2×2 average pool (14×14); conv3×3 32→64,
/// GN, ReLU, pool (7×7); conv3×3 64→64 stride 2, GN, ReLU (4×4); flatten 1024 → linear 128 + ReLU (the
/// penultimate features that define FD_fmnist) → linear 10 (logits). About 190k parameters (≈ 0.75 MB float32).
/// </summary>
public sealed class FashionClassifier : Module
{
    public const int InputSize = 28;
    public const int FeatureDimension = 128;
    public const int Classes = 10;
    private const int Groups = 8;

    private readonly Conv2d _conv1, _conv2, _conv3;
    private readonly GroupNorm _norm1, _norm2, _norm3;
    private readonly Linear _fc, _head;

    public FashionClassifier(Rng rng)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(1, 32, 3, rng));
        _norm1 = RegisterModule("norm1", new GroupNorm(32, Groups));
        _conv2 = RegisterModule("conv2", new Conv2d(32, 64, 3, rng));
        _norm2 = RegisterModule("norm2", new GroupNorm(64, Groups));
        _conv3 = RegisterModule("conv3", new Conv2d(64, 64, 3, rng, stride: 2, padding: 1));
        _norm3 = RegisterModule("norm3", new GroupNorm(64, Groups));
        _fc = RegisterModule("fc", new Linear(64 * 4 * 4, FeatureDimension, rng));
        _head = RegisterModule("head", new Linear(FeatureDimension, Classes, rng));
    }

    /// <summary>Penultimate features [N, 128] (after the ReLU) of images [N, 1, 28, 28] in [−1, 1].</summary>
    public Tensor Features(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(1) != 1 || x.Dim(2) != InputSize || x.Dim(3) != InputSize)
            throw new ArgumentException($"FashionClassifier expects [N, 1, {InputSize}, {InputSize}], got {Shapes.Format(x.Shape)}.");
        var h = _norm1.Forward(_conv1.Forward(x)).Relu().AvgPool2x();
        h = _norm2.Forward(_conv2.Forward(h)).Relu().AvgPool2x();
        h = _norm3.Forward(_conv3.Forward(h)).Relu();
        return _fc.Forward(h.Flatten()).Relu();
    }

    /// <summary>Class logits [N, 10].</summary>
    public Tensor Forward(Tensor x) => _head.Forward(Features(x));

    /// <summary>Logits from precomputed penultimate features.</summary>
    public Tensor Classify(Tensor features) => _head.Forward(features);
}
