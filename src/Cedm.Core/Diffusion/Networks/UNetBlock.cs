using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Diffusion.Networks;

/// <summary>
/// SongUNet's residual block, DDPM++ flavour (spec §2.2): GN→SiLU→[resample]→conv3×3, plus the embedding's
/// per-channel shift, GN→SiLU→dropout→conv3×3 (near-zero init), a skip path ([resample]→1×1 conv when the width
/// changes or it resamples), sum scaled by √0.5; optionally GN→1×1 qkv→single-layout self-attention→1×1 proj
/// (near-zero init), added and scaled by √0.5 again. Member names match the reference
/// (norm0, conv0, affine, norm1, conv1, skip, norm2, qkv, proj) so checkpoints map one to one.
/// Resampling (nearest ×2 up / 2×2 average down) happens before the weight conv, as in the reference.
/// </summary>
public sealed class UNetBlock : Module
{
    /// <summary>√0.5, the DDPM++ skip scale (keeps the variance of a residual sum at that of its inputs).</summary>
    public static readonly float SkipScale = MathF.Sqrt(0.5f);

    private readonly GroupNorm _norm0, _norm1;
    private readonly Conv2d _conv0, _conv1;
    private readonly Linear _affine;
    private readonly Conv2d? _skip;
    private readonly GroupNorm? _norm2;
    private readonly Conv2d? _qkv, _proj;

    public int InChannels { get; }

    public int OutChannels { get; }

    public bool Up { get; }

    public bool Down { get; }

    public bool HasAttention => _qkv != null;

    public int Heads { get; }

    public float DropoutP { get; }

    public UNetBlock(int inChannels, int outChannels, int embChannels, Rng rng, bool up = false, bool down = false,
        bool attention = false, int heads = 1, float dropout = 0f)
    {
        if (up && down) throw new ArgumentException("UNetBlock cannot both upsample and downsample.");
        if (attention && (heads < 1 || outChannels % heads != 0))
            throw new ArgumentException($"UNetBlock: {outChannels} channels are not divisible by {heads} heads.");
        InChannels = inChannels;
        OutChannels = outChannels;
        Up = up;
        Down = down;
        Heads = heads;
        DropoutP = dropout;
        // Registration order = the reference's, so parameter lists line up (spec §2.1 inits: init, init_zero, init_attn).
        _norm0 = RegisterModule("norm0", GroupNorm.ForSongUNet(inChannels, fusedSilu: true));
        _conv0 = RegisterModule("conv0", new Conv2d(inChannels, outChannels, 3, rng, init: WeightInit.Song));
        _affine = RegisterModule("affine", new Linear(embChannels, outChannels, rng, init: WeightInit.Song));
        _norm1 = RegisterModule("norm1", GroupNorm.ForSongUNet(outChannels, fusedSilu: true));
        _conv1 = RegisterModule("conv1", new Conv2d(outChannels, outChannels, 3, rng, init: WeightInit.SongZero));
        if (outChannels != inChannels || up || down)
            _skip = RegisterModule("skip", new Conv2d(inChannels, outChannels, 1, rng, init: WeightInit.Song));
        if (attention)
        {
            _norm2 = RegisterModule("norm2", GroupNorm.ForSongUNet(outChannels));
            _qkv = RegisterModule("qkv", new Conv2d(outChannels, outChannels * 3, 1, rng, init: WeightInit.SongAttn));
            _proj = RegisterModule("proj", new Conv2d(outChannels, outChannels, 1, rng, init: WeightInit.SongZero));
        }
    }

    /// <param name="x">[N, in, H, W].</param>
    /// <param name="emb">[N, E], the mapping network's output.</param>
    /// <param name="dropoutRng">Draws the dropout mask; only read in training mode with dropout &gt; 0.</param>
    public Tensor Forward(Tensor x, Tensor emb, Rng? dropoutRng)
    {
        if (x.Rank != 4 || x.Dim(1) != InChannels)
            throw new ArgumentException($"UNetBlock({InChannels}→{OutChannels}) expects [N, {InChannels}, H, W], got {Shapes.Format(x.Shape)}.");
        // Without a graph the block's intermediates die with it: a nested TensorArena hands their storage to the next
        // block while it is still in cache (one scope per evaluation made every op write to memory untouched since the
        // previous evaluation).
        return TensorArena.Recycling(() => Compute(x, emb, dropoutRng));
    }

    private Tensor Compute(Tensor x, Tensor emb, Rng? dropoutRng)
    {
        int n = x.Dim(0);
        var h = _conv0.Forward(Resample(_norm0.Forward(x)));
        // The embedding enters as a per-sample, per-channel shift before the second norm.
        h = _norm1.Forward(h + _affine.Forward(emb).Reshape(n, OutChannels, 1, 1));
        if (IsTraining && DropoutP > 0f)
            h = h.Dropout(DropoutP, dropoutRng ?? throw new ArgumentNullException(nameof(dropoutRng), "Training-mode dropout needs an Rng."), training: true);
        h = _conv1.Forward(h);
        var skip = _skip != null ? _skip.Forward(Resample(x)) : x;
        var y = Tensor.ScaledSum(h, skip, SkipScale);
        if (_qkv == null) return y;
        var a = Tensor.SpatialSelfAttention(_qkv.Forward(_norm2!.Forward(y)), Heads);
        return Tensor.ScaledSum(_proj!.Forward(a), y, SkipScale);
    }

    private Tensor Resample(Tensor t) => Up ? t.Upsample2xNearest() : Down ? t.AvgPool2x() : t;
}
