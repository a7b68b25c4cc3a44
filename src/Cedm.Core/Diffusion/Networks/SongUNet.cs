using Cedm.Diffusion.Coherence;
using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Diffusion.Networks;

/// <summary>
/// The DDPM++ U-Net of EDM ("SongUNet", spec §2) with EDM's class-label path used for cluster conditioning (spec §3).
/// F(x; c_noise, labels, augment_labels): x [N, in, R, R] (already scaled by c_in) → [N, out, R, R].
/// <para>
/// Parameter paths follow the reference module tree so real EDM checkpoints map by name (the EDMPrecond wrapper
/// adds the prefix "model."): <c>map_label.{weight,bias}</c>, <c>map_augment.weight</c>, <c>map_layer0/1.{weight,bias}</c>,
/// encoder <c>enc.{R}x{R}_conv</c>, <c>enc.{r}x{r}_down</c>, <c>enc.{r}x{r}_block{i}</c>, decoder <c>dec.{r}x{r}_in0/in1</c>
/// (deepest level), <c>dec.{r}x{r}_up</c>, <c>dec.{r}x{r}_block{i}</c>, <c>dec.{R}x{R}_aux_norm</c>, <c>dec.{R}x{R}_aux_conv</c>;
/// inside a block <c>norm0, conv0, affine, norm1, conv1, skip, norm2, qkv, proj</c>. <c>map_noise</c> has no
/// parameters. The reference's non-learned resample_filter buffers are not stored (our resampling is built in).
/// A coherence-aware net (<see cref="SongUNetOptions.Coherence"/>, CAD) adds <c>map_coh.fc0/fc1.{weight,bias}</c>
/// (<see cref="Coherence.CoherenceEmbedding"/>), which EDM checkpoints do not have; a feature-conditioned net
/// (<see cref="SongUNetOptions.FeatureDim"/>, related-seeds B.3) adds <c>map_feat.fc0/fc1.{weight,bias}</c>
/// (<see cref="FeatureEmbedding"/>). An image-conditioned net (<see cref="SongUNetOptions.ConditionChannels"/>,
/// related-seeds A′.1) has no new parameter path: its <c>enc.{R}x{R}_conv.weight</c> is wider, [C, in + condition, 3, 3].
/// </para>
/// </summary>
public sealed class SongUNet : Module
{
    private readonly PositionalEmbedding _mapNoise;
    private readonly Linear? _mapLabel, _mapAugment;
    private readonly CoherenceEmbedding? _mapCoherence;
    private readonly FeatureEmbedding? _mapFeature;
    private readonly Linear _mapLayer0, _mapLayer1;
    private readonly ModuleDict _enc, _dec;
    private readonly Conv2d _encConv;
    private readonly GroupNorm _auxNorm;
    private readonly Conv2d _auxConv;
    private readonly float _labelScale;

    public SongUNetOptions Options { get; }

    /// <summary>Noise-embedding width nc (= model_channels).</summary>
    public int NoiseChannels { get; }

    /// <summary>Embedding width E fed to every block (= model_channels·channel_mult_emb).</summary>
    public int EmbChannels { get; }

    /// <summary>Widths pushed on the skip stack by the encoder, in push order (spec §2.4).</summary>
    public IReadOnlyList<int> SkipChannels { get; }

    /// <summary>Builds the network and draws its initial weights from <paramref name="rng"/> (spec §2.1 init scheme).</summary>
    public SongUNet(SongUNetOptions options, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rng);
        options.Validate();
        Options = options;
        NoiseChannels = options.ModelChannels;
        EmbChannels = options.ModelChannels * options.ChannelMultEmb;
        _labelScale = options.LabelDim > 0 ? MathF.Sqrt(options.LabelDim) : 0f;

        // Mapping network (spec §2.3), in the reference's registration order.
        _mapNoise = RegisterModule("map_noise", new PositionalEmbedding(NoiseChannels));
        if (options.LabelDim > 0)
            _mapLabel = RegisterModule("map_label", new Linear(options.LabelDim, NoiseChannels, rng, init: WeightInit.Song));
        if (options.AugmentDim > 0)
            _mapAugment = RegisterModule("map_augment", new Linear(options.AugmentDim, NoiseChannels, rng, bias: false, init: WeightInit.Song));
        _mapLayer0 = RegisterModule("map_layer0", new Linear(NoiseChannels, EmbChannels, rng, init: WeightInit.Song));
        _mapLayer1 = RegisterModule("map_layer1", new Linear(EmbChannels, EmbChannels, rng, init: WeightInit.Song));

        UNetBlock Block(int cin, int cout, bool up = false, bool down = false, bool attention = false) =>
            new(cin, cout, EmbChannels, rng, up, down, attention, options.Heads, options.Dropout);

        // Encoder (spec §2.4): every output is pushed on the skip stack.
        _enc = RegisterModule("enc", new ModuleDict());
        var skips = new List<int>();
        int cout = options.InChannels;
        _encConv = null!;
        for (int level = 0; level < options.ChannelMult.Count; level++)
        {
            int res = options.Resolution >> level;
            if (level == 0)
            {
                // A′.1: the condition image is concatenated to the input along channels, so the first conv is wider.
                int cin = cout + options.ConditionChannels;
                cout = options.ModelChannels;
                _encConv = _enc.Add($"{res}x{res}_conv", new Conv2d(cin, cout, 3, rng, init: WeightInit.Song));
            }
            else
                _enc.Add($"{res}x{res}_down", Block(cout, cout, down: true));
            skips.Add(cout);
            for (int i = 0; i < options.NumBlocks; i++)
            {
                int cin = cout;
                cout = options.ModelChannels * options.ChannelMult[level];
                _enc.Add($"{res}x{res}_block{i}", Block(cin, cout, attention: options.AttnResolutions.Contains(res)));
                skips.Add(cout);
            }
        }
        SkipChannels = skips.ToArray();

        // Decoder: deepest level starts with in0 (attention, always) and in1; others with an up block; then
        // num_blocks+1 blocks each eating one skip; attention only on a level's last block.
        _dec = RegisterModule("dec", new ModuleDict());
        var stack = new Stack<int>(skips);
        for (int level = options.ChannelMult.Count - 1; level >= 0; level--)
        {
            int res = options.Resolution >> level;
            if (level == options.ChannelMult.Count - 1)
            {
                _dec.Add($"{res}x{res}_in0", Block(cout, cout, attention: true));
                _dec.Add($"{res}x{res}_in1", Block(cout, cout));
            }
            else
                _dec.Add($"{res}x{res}_up", Block(cout, cout, up: true));
            for (int i = 0; i <= options.NumBlocks; i++)
            {
                int cin = cout + stack.Pop();
                cout = options.ModelChannels * options.ChannelMult[level];
                bool attn = i == options.NumBlocks && options.AttnResolutions.Contains(res);
                _dec.Add($"{res}x{res}_block{i}", Block(cin, cout, attention: attn));
            }
        }
        int r0 = options.Resolution;
        _auxNorm = _dec.Add($"{r0}x{r0}_aux_norm", GroupNorm.ForSongUNet(cout, fusedSilu: true));
        _auxConv = _dec.Add($"{r0}x{r0}_aux_conv", new Conv2d(cout, options.OutChannels, 3, rng, init: WeightInit.SongZero));

        // Registered (and drawn) last, so every other weight equals that of the same net without coherence.
        if (options.Coherence)
            _mapCoherence = RegisterModule("map_coh", new CoherenceEmbedding(NoiseChannels, rng));
        // Likewise: a feature-conditioned net draws every other weight as the same net without features.
        if (options.FeatureDim > 0)
            _mapFeature = RegisterModule("map_feat", new FeatureEmbedding(options.FeatureDim, NoiseChannels, rng));
    }

    /// <summary>
    /// F(x; c_noise, labels, augment labels).
    /// </summary>
    /// <param name="x">[N, in + condition, R, R]: the preconditioned input c_in·x, followed by the condition image's
    /// channels for a net with <see cref="SongUNetOptions.ConditionChannels"/> &gt; 0 (<see cref="EdmPrecond"/> concatenates them).</param>
    /// <param name="cNoise">[N] noise conditioning c_noise(σ) = ln(σ)/4.</param>
    /// <param name="labels">[N, K] one-hot (unscaled; ×√K is applied here, spec §2.3); null or an all-zero row = no condition.
    /// Required shape when <see cref="SongUNetOptions.LabelDim"/> &gt; 0; must be null for an unconditional net.</param>
    /// <param name="augmentLabels">[N, augment_dim] or null (= the map_augment term is absent, as at sampling time).</param>
    /// <param name="dropoutRng">Draws dropout masks in training mode; may be null in eval mode.</param>
    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels, Tensor? augmentLabels, Rng? dropoutRng) =>
        Forward(x, cNoise, labels, null, augmentLabels, dropoutRng);

    /// <summary>
    /// F(x; c_noise, labels, coherence, augment labels). <paramref name="coherence"/> is [N] in [0, 1] (related-seeds
    /// C.1) for a net built with <see cref="SongUNetOptions.Coherence"/>; null there means c = 1 (the clean
    /// conditional model). A net without coherence must get null.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels, Tensor? coherence, Tensor? augmentLabels, Rng? dropoutRng) =>
        Forward(x, cNoise, labels, coherence, null, augmentLabels, dropoutRng);

    /// <summary>
    /// F(x; c_noise, labels, coherence, features, augment labels). <paramref name="features"/> is [N, d] for a net built
    /// with <see cref="SongUNetOptions.FeatureDim"/> = d; null there means the all-zero (null) condition. A net without
    /// a feature condition must get null.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels, Tensor? coherence, Tensor? features, Tensor? augmentLabels, Rng? dropoutRng)
    {
        var o = Options;
        int inputChannels = o.InChannels + o.ConditionChannels;
        if (x.Rank != 4 || x.Dim(1) != inputChannels || x.Dim(2) != o.Resolution || x.Dim(3) != o.Resolution)
            throw new ArgumentException($"SongUNet expects x of shape [N, {inputChannels}, {o.Resolution}, {o.Resolution}]"
                + (o.ConditionChannels > 0 ? $" ({o.InChannels} image and {o.ConditionChannels} condition channels)" : "") + $", got {Shapes.Format(x.Shape)}.");
        int n = x.Dim(0);
        if (cNoise.Rank != 1 || cNoise.Dim(0) != n)
            throw new ArgumentException($"SongUNet expects c_noise of shape [{n}], got {Shapes.Format(cNoise.Shape)}.");

        // Mapping network (spec §2.3).
        var emb = _mapNoise.Forward(cNoise);
        if (_mapLabel != null)
        {
            if (labels == null) labels = Tensor.Zeros(n, o.LabelDim);
            else if (labels.Rank != 2 || labels.Dim(0) != n || labels.Dim(1) != o.LabelDim)
                throw new ArgumentException($"SongUNet expects labels of shape [{n}, {o.LabelDim}], got {Shapes.Format(labels.Shape)}.");
            emb = emb + _mapLabel.Forward(labels * _labelScale);
        }
        else if (labels != null)
            throw new ArgumentException($"SongUNet was built unconditional (label_dim 0) but got labels of shape {Shapes.Format(labels.Shape)}.");
        if (_mapCoherence != null)
        {
            if (coherence == null) coherence = Tensor.Ones(n);
            else if (coherence.Rank != 1 || coherence.Dim(0) != n)
                throw new ArgumentException($"SongUNet expects coherence of shape [{n}], got {Shapes.Format(coherence.Shape)}.");
            emb = emb + _mapCoherence.Forward(coherence);
        }
        else if (coherence != null)
            throw new ArgumentException("SongUNet was built without coherence conditioning but got coherence scores.");
        if (_mapFeature != null)
        {
            if (features == null) features = Tensor.Zeros(n, o.FeatureDim);
            else if (features.Rank != 2 || features.Dim(0) != n || features.Dim(1) != o.FeatureDim)
                throw new ArgumentException($"SongUNet expects features of shape [{n}, {o.FeatureDim}], got {Shapes.Format(features.Shape)}.");
            emb = emb + _mapFeature.Forward(features);
        }
        else if (features != null)
            throw new ArgumentException($"SongUNet was built without a feature condition (feature_dim 0) but got features of shape {Shapes.Format(features.Shape)}.");
        if (augmentLabels != null)
        {
            if (_mapAugment == null)
                throw new ArgumentException($"SongUNet was built with augment_dim 0 but got augment labels of shape {Shapes.Format(augmentLabels.Shape)}.");
            if (augmentLabels.Rank != 2 || augmentLabels.Dim(0) != n || augmentLabels.Dim(1) != o.AugmentDim)
                throw new ArgumentException($"SongUNet expects augment labels of shape [{n}, {o.AugmentDim}], got {Shapes.Format(augmentLabels.Shape)}.");
            emb = emb + _mapAugment.Forward(augmentLabels);
        }
        emb = Tensor.AddBiasActivation(Tensor.Linear(emb, _mapLayer0.Weight, null), _mapLayer0.Bias!, Activation.Silu);
        emb = Tensor.AddBiasActivation(Tensor.Linear(emb, _mapLayer1.Weight, null), _mapLayer1.Bias!, Activation.Silu);

        // Encoder.
        var skips = new List<Tensor>(SkipChannels.Count);
        var h = x;
        foreach (var (_, module) in _enc.Items)
        {
            h = module is UNetBlock block ? block.Forward(h, emb, dropoutRng) : _encConv.Forward(h);
            skips.Add(h);
        }

        // Decoder: a block whose input width differs from h's takes concat(h, next skip) (spec §2.4).
        foreach (var (_, module) in _dec.Items)
        {
            if (module is not UNetBlock block) continue;
            if (h.Dim(1) != block.InChannels)
            {
                var s = skips[^1];
                skips.RemoveAt(skips.Count - 1);
                h = Tensor.Concat(1, h, s);
            }
            h = block.Forward(h, emb, dropoutRng);
        }
        return _auxConv.Forward(_auxNorm.Forward(h));
    }
}
