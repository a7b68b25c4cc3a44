using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Features.Ssl;

/// <summary>
/// The self-supervised encoder: a small CNN backbone whose globally averaged output (128-d) is the
/// representation, plus SimCLR's MLP projection head (128 → 256 → 128) used only by the training loss
/// (Chen et al. 2020 §4.2: the representation before the head transfers better). Backbone, sized so SimCLR gets
/// several epochs of Fashion-MNIST into a few minutes on two cores: conv3×3 C→32, GN, ReLU, 2×2 average pool
/// (14×14); conv3×3 32→64 stride 2, GN, ReLU (7×7); conv3×3 64→128 stride 2, GN, ReLU (4×4); spatial mean.
/// About 2.3M multiply-adds per 28×28 view. Any even input size works (28×28 and padded 32×32 alike).
/// </summary>
public sealed class SslEncoder : Module
{
    public const int RepresentationDimension = 128;
    private const int Groups = 8, HeadHidden = 256;

    private readonly Conv2d _conv1, _conv2, _conv3;
    private readonly GroupNorm _norm1, _norm2, _norm3;
    private readonly Linear _proj1, _proj2;

    public SslEncoder(int channels, Rng rng, int projectionDimension = 128)
    {
        Channels = channels;
        ProjectionDimension = projectionDimension;
        _conv1 = RegisterModule("conv1", new Conv2d(channels, 32, 3, rng));
        _norm1 = RegisterModule("norm1", new GroupNorm(32, Groups));
        _conv2 = RegisterModule("conv2", new Conv2d(32, 64, 3, rng, stride: 2, padding: 1));
        _norm2 = RegisterModule("norm2", new GroupNorm(64, Groups));
        _conv3 = RegisterModule("conv3", new Conv2d(64, RepresentationDimension, 3, rng, stride: 2, padding: 1));
        _norm3 = RegisterModule("norm3", new GroupNorm(RepresentationDimension, Groups));
        _proj1 = RegisterModule("proj1", new Linear(RepresentationDimension, HeadHidden, rng));
        _proj2 = RegisterModule("proj2", new Linear(HeadHidden, projectionDimension, rng));
    }

    public int Channels { get; }
    public int ProjectionDimension { get; }

    /// <summary>The representation h [N, 128] of images [N, C, H, W] in [−1, 1].</summary>
    public Tensor Represent(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(1) != Channels || x.Dim(2) % 2 != 0 || x.Dim(3) % 2 != 0)
            throw new ArgumentException($"SslEncoder expects [N, {Channels}, H, W] with H and W even, got {Shapes.Format(x.Shape)}.");
        var h = _norm1.Forward(_conv1.Forward(x)).Relu().AvgPool2x();
        h = _norm2.Forward(_conv2.Forward(h)).Relu();
        h = _norm3.Forward(_conv3.Forward(h)).Relu();
        return h.Mean([2, 3]);
    }

    /// <summary>The projection z = g(h) [N, P] the contrastive loss is computed on.</summary>
    public Tensor Project(Tensor representation) => _proj2.Forward(_proj1.Forward(representation).Relu());
}
