using System.Collections.Concurrent;
using Cedm.Features.Networks;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Features.Vit;

/// <summary>
/// A DINO / DINOv2 Vision Transformer backbone (spec §4.1, §6.2) built from checkpoint tensors under the key names
/// of the facebookresearch releases (see <see cref="VitConfig.TensorLayout"/>). Forward: patch embedding (a conv
/// with kernel = stride = patch; pixels beyond the last whole patch are dropped), CLS token prepended, positional
/// embedding added (interpolated when the patch grid differs from the trained one), DINOv2 register tokens
/// inserted after the CLS token, the blocks, the final LayerNorm, and the CLS row as the feature.
/// <para>Positional-embedding interpolation reproduces the reference code exactly: it is skipped only when the
/// patch count equals the trained one and the image is square; otherwise the trained M×M grid is resized with
/// plain (non-antialiased) bicubic, a = −0.75, called with scale_factor = (grid + offset)/M where offset = 0.1,
/// so PyTorch maps output coordinates with M/(grid + 0.1) rather than M/grid. Results are cached per grid.</para>
/// </summary>
public sealed class VisionTransformer
{
    private const float LayerNormEps = 1e-6f;
    private readonly Tensor _cls, _pos, _patchW, _patchB, _normW, _normB;
    private readonly Tensor? _registers;
    private readonly VitBlock[] _blocks;
    private readonly ConcurrentDictionary<(int, int, bool), Tensor> _posCache = new();

    public VisionTransformer(PretrainedWeights checkpoint, int? heads = null, double posEmbedOffset = 0.1)
    {
        var ck = checkpoint;
        Config = VitConfig.Infer(ck, heads);
        PosEmbedOffset = posEmbedOffset;
        int d = Config.EmbedDim, p = Config.PatchSize;
        _cls = ck.Require("cls_token", 1, 1, d);
        _pos = ck.Require("pos_embed", 1, 1 + Config.PosGrid * Config.PosGrid, d);
        _patchW = ck.Require("patch_embed.proj.weight", d, 3, p, p);
        _patchB = ck.Require("patch_embed.proj.bias", d);
        _registers = ck.Optional("register_tokens", 1, Config.RegisterTokens, d);
        ck.Optional("mask_token", 1, d); // DINOv2 masked-image-modelling token: stored, unused at inference
        _blocks = [.. Enumerable.Range(0, Config.Depth).Select(i => new VitBlock(ck, i, Config))];
        _normW = ck.Require("norm.weight", d);
        _normB = ck.Require("norm.bias", d);
        Source = ck.Source;
        IgnoredKeys = ck.UnusedKeys();
    }

    public static VisionTransformer Load(string path, int? heads = null, double posEmbedOffset = 0.1) =>
        new(PretrainedWeights.Load(path, "cls_token"), heads, posEmbedOffset);

    public VitConfig Config { get; }

    public double PosEmbedOffset { get; }

    public string Source { get; }

    /// <summary>Stored tensors the network does not use (e.g. a classifier head, DINO's projection head).</summary>
    public IReadOnlyList<string> IgnoredKeys { get; }

    /// <summary>x: normalised images [N, 3, H, W] (H, W ≥ patch) → CLS features after the final norm [N, D].</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(1) != 3)
            throw new ArgumentException($"VisionTransformer expects images [N, 3, H, W], got {Shapes.Format(x.Shape)}.");
        int n = x.Dim(0), h = x.Dim(2), w = x.Dim(3), p = Config.PatchSize, d = Config.EmbedDim;
        if (h < p || w < p)
            throw new ArgumentException($"VisionTransformer: images {h}x{w} are smaller than one {p}x{p} patch.");
        int gh = h / p, gw = w / p;
        var patches = Tensor.Conv2d(x, _patchW, _patchB, p, p, 0, 0).Reshape(n, d, gh * gw).Permute(0, 2, 1);
        var tokens = Tensor.Concat(1, _cls.BroadcastTo(n, 1, d), patches) + PositionalEmbedding(gh, gw, h == w);
        if (_registers != null)
            tokens = Tensor.Concat(1, tokens.Slice(1, 0, 1), _registers.BroadcastTo(n, Config.RegisterTokens, d),
                tokens.Slice(1, 1, gh * gw));
        foreach (var block in _blocks) tokens = block.Forward(tokens);
        return Tensor.LayerNorm(tokens.Slice(1, 0, 1), _normW, _normB, LayerNormEps).Reshape(n, d);
    }

    /// <summary>[1, 1 + gh·gw, D]: the CLS position and the (interpolated) patch grid.</summary>
    public Tensor PositionalEmbedding(int gh, int gw, bool squareImage)
    {
        int m = Config.PosGrid;
        if (gh * gw == m * m && squareImage) return _pos;
        return _posCache.GetOrAdd((gh, gw, squareImage), _ =>
        {
            using var _noGrad = GradMode.NoGrad();
            int d = Config.EmbedDim;
            var grid = _pos.Slice(1, 1, m * m).Reshape(1, m, m, d).Permute(0, 3, 1, 2);
            var resized = grid.Resize2d(gh, gw, ResizeFilter.Bicubic, antialias: false,
                scaleH: m / (gh + PosEmbedOffset), scaleW: m / (gw + PosEmbedOffset));
            return Tensor.Concat(1, _pos.Slice(1, 0, 1), resized.Permute(0, 2, 3, 1).Reshape(1, gh * gw, d));
        });
    }
}
