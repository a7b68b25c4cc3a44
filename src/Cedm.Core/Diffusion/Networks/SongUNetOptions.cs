namespace Cedm.Diffusion.Networks;

/// <summary>
/// Configuration of <see cref="SongUNet"/> (DDPM++, spec §2). Defaults are the reference class's own defaults
/// (32×32, 3 channels, 128 base channels, mult [1,2,2,2], 4 blocks, attention at 16×16, dropout 0.10);
/// the presets <see cref="Small"/>, <see cref="CifarEdm"/> and <see cref="Tiny"/> are the configurations we run.
/// Serialisable as JSON (saved beside checkpoints).
/// </summary>
public sealed record SongUNetOptions
{
    /// <summary>Input/output image side R (square images; must be divisible by 2^(levels−1)).</summary>
    public int Resolution { get; init; } = 32;

    /// <summary>Image channels fed to the network.</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Channels of the output F (equal to <see cref="InChannels"/> for a denoiser).</summary>
    public int OutChannels { get; init; } = 3;

    /// <summary>Conditioning dimension K (0 = unconditional): one-hot labels/clusters enter via map_label (spec §2.3, §3).</summary>
    public int LabelDim { get; init; }

    /// <summary>
    /// Coherence conditioning (CAD, related-seeds C.4/D.1): a per-image score c ∈ [0, 1] enters through
    /// <c>map_coh</c>, added to the label embedding. Off by default, so configurations saved without it load unchanged.
    /// Needs a conditional net (<see cref="LabelDim"/> &gt; 0).
    /// </summary>
    public bool Coherence { get; init; }

    /// <summary>
    /// Dimension d of a continuous condition vector (0 = none): an image's whitened feature, a cluster centroid or a
    /// draw from a fitted Gaussian enters through <c>map_feat</c> (Linear → SiLU → Linear, related-seeds B.3 item 2),
    /// added where <c>map_label</c>'s output is. Independent of <see cref="LabelDim"/>; 0 by default, so configurations
    /// saved without it load unchanged.
    /// </summary>
    public int FeatureDim { get; init; }

    /// <summary>
    /// Channels of a condition image concatenated to the noisy input (0 = none; related-seeds A′.1, Diffuse-TreeVAE's
    /// "reconstruction conditioning"): the first convolution <c>enc.{R}x{R}_conv</c> reads <see cref="InChannels"/> +
    /// this many channels, the output keeps <see cref="OutChannels"/>. 0 by default, so configurations saved without
    /// it load unchanged.
    /// </summary>
    public int ConditionChannels { get; init; }

    /// <summary>Augmentation-label dimension (0 = none; EDM's augment pipe emits 9, spec §1.6).</summary>
    public int AugmentDim { get; init; }

    /// <summary>Base width; level ℓ has model_channels·channel_mult[ℓ] channels; noise embedding width nc = this.</summary>
    public int ModelChannels { get; init; } = 128;

    /// <summary>Per-level channel multipliers; the number of entries is the number of resolutions.</summary>
    public IReadOnlyList<int> ChannelMult { get; init; } = [1, 2, 2, 2];

    /// <summary>Embedding width multiplier: E = model_channels·this (4 in DDPM++).</summary>
    public int ChannelMultEmb { get; init; } = 4;

    /// <summary>UNet blocks per resolution in the encoder (the decoder has one more per level).</summary>
    public int NumBlocks { get; init; } = 4;

    /// <summary>Resolutions whose blocks have self-attention (the deepest level's decoder in0 block always has it).</summary>
    public IReadOnlyList<int> AttnResolutions { get; init; } = [16];

    /// <summary>Dropout probability inside every block (before conv1), active only in training mode.</summary>
    public float Dropout { get; init; } = 0.10f;

    /// <summary>Attention heads per attention layer (DDPM++: 1).</summary>
    public int Heads { get; init; } = 1;

    /// <summary>The preset names of `cedm train --preset`.</summary>
    public static readonly string[] Presets = ["tiny", "small", "cifar-edm"];

    /// <summary>A preset by name: tiny, small (spec §2.6) or cifar-edm (EDM's DDPM++ without augmentation labels).</summary>
    public static SongUNetOptions FromPreset(string name) => name switch
    {
        "tiny" => Tiny(),
        "small" => Small(),
        "cifar-edm" => CifarEdm(augmentDim: 0),
        _ => throw new SettingException("Preset", $"expected {string.Join(", ", Presets)}, got {name}"),
    };

    /// <summary>
    /// The project's "small" net (issue "Diffusion"): 64 channels, mult [1,2,2], 2 blocks, attention at 8×8,
    /// 32×32×1 → 6 987 585 parameters unconditional (spec §2.6).
    /// </summary>
    public static SongUNetOptions Small(int labelDim = 0, int augmentDim = 0, int channels = 1) => new()
    {
        Resolution = 32, InChannels = channels, OutChannels = channels, LabelDim = labelDim, AugmentDim = augmentDim,
        ModelChannels = 64, ChannelMult = [1, 2, 2], NumBlocks = 2, AttnResolutions = [8], Dropout = 0.10f,
    };

    /// <summary>
    /// EDM's CIFAR-10 DDPM++ (spec §2.5): 128 channels, mult [2,2,2], 4 blocks, attention at 16×16, dropout 0.13,
    /// augment_dim 9; 55 733 891 parameters unconditional.
    /// </summary>
    public static SongUNetOptions CifarEdm(int labelDim = 0, int augmentDim = 9, int channels = 3) => new()
    {
        Resolution = 32, InChannels = channels, OutChannels = channels, LabelDim = labelDim, AugmentDim = augmentDim,
        ModelChannels = 128, ChannelMult = [2, 2, 2], NumBlocks = 4, AttnResolutions = [16], Dropout = 0.13f,
    };

    /// <summary>
    /// Our CPU default for quick runs (32×32×1, e.g. padded Fashion-MNIST): 32 channels, mult [1,2,2], 1 block per
    /// level, attention at 8×8 — the topology of <see cref="Small"/> at half the width and half the depth
    /// (about 7× fewer multiply-adds; trade-off measured in the diffusion benchmark, see docs in the report).
    /// </summary>
    public static SongUNetOptions Tiny(int labelDim = 0, int augmentDim = 0, int channels = 1) => new()
    {
        Resolution = 32, InChannels = channels, OutChannels = channels, LabelDim = labelDim, AugmentDim = augmentDim,
        ModelChannels = 32, ChannelMult = [1, 2, 2], NumBlocks = 1, AttnResolutions = [8], Dropout = 0.10f,
    };

    /// <summary>Throws <see cref="ArgumentException"/> with a readable message when the configuration is inconsistent.</summary>
    public void Validate()
    {
        void Require(bool ok, string what) { if (!ok) throw new ArgumentException($"SongUNetOptions: {what}."); }
        Require(Resolution >= 1, $"resolution must be ≥ 1 (got {Resolution})");
        Require(InChannels >= 1 && OutChannels >= 1, $"in/out channels must be ≥ 1 (got {InChannels}/{OutChannels})");
        Require(LabelDim >= 0 && AugmentDim >= 0, "label_dim and augment_dim must be ≥ 0");
        Require(FeatureDim >= 0, $"feature_dim must be ≥ 0 (got {FeatureDim})");
        Require(ConditionChannels >= 0, $"condition_channels must be ≥ 0 (got {ConditionChannels})");
        Require(!Coherence || LabelDim > 0, "coherence conditioning needs a conditional net (label_dim > 0)");
        Require(ModelChannels >= 2 && ModelChannels % 2 == 0 && ModelChannels >= 4, $"model_channels must be even and ≥ 4 (got {ModelChannels})");
        Require(ChannelMult is { Count: > 0 } && ChannelMult.All(m => m >= 1), "channel_mult needs ≥ 1 entry, each ≥ 1");
        Require(ChannelMultEmb >= 1, "channel_mult_emb must be ≥ 1");
        Require(NumBlocks >= 1, $"num_blocks must be ≥ 1 (got {NumBlocks})");
        Require(AttnResolutions != null, "attn_resolutions must not be null");
        Require(Dropout >= 0f && Dropout < 1f, $"dropout must be in [0, 1) (got {Dropout})");
        Require(Heads >= 1, "heads must be ≥ 1");
        int levels = ChannelMult.Count;
        Require(Resolution % (1 << (levels - 1)) == 0, $"resolution {Resolution} must be divisible by 2^{levels - 1} for {levels} levels");
        foreach (int m in ChannelMult)
            Require(ModelChannels * m % 4 == 0 && ModelChannels * m % Heads == 0,
                $"level width {ModelChannels * m} must be divisible by 4 (GroupNorm rule) and by heads {Heads}");
    }
}
