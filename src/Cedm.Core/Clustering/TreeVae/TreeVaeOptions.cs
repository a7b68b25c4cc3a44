namespace Cedm.Clustering.TreeVae;

/// <summary>How a leaf decoder scores an input (related-seeds A.1).</summary>
public enum TreeVaeLikelihood
{
    /// <summary>Bernoulli(sigmoid(·)), summed binary cross-entropy: inputs in [0, 1] (grey images, the paper's MNIST/Fashion setting).</summary>
    Bernoulli,

    /// <summary>Unit-variance Gaussian, summed squared error ("mse"): any real vectors (features).</summary>
    Gaussian,
}

/// <summary>Which layers a TreeVAE is built from (related-seeds A.5).</summary>
public enum TreeVaeArchitecture
{
    /// <summary>The original vector variant: every latent a vector, MLP encoder and decoders (any input vectors).</summary>
    Mlp,

    /// <summary>CNN-TreeVAE (Diffuse-TreeVAE's variant): every latent a C×R×R feature map, convolutional blocks (images).</summary>
    Cnn,
}

/// <summary>
/// TreeVAE hyper-parameters (related-seeds A.3–A.5); the table is the vector variant (every latent a vector, the encoder and the
/// leaf decoders MLPs over the flattened input; CNN-TreeVAE's settings are the Architecture ... SpectralNorm properties).
/// <see cref="Paper"/> is the original MNIST/Fashion recipe;
/// <see cref="Cpu"/> trades epochs for time on 2 cores (see its remarks). Side by side:
/// <code>
///                                   paper (A.3–A.5)        cpu
///   latent, router/transform width  8, 128                 same
///   encoder / decoder hidden        512-256 / 128-256-512  same
///   bottom-up width                 128                    same
///   levels (max depth + 1)          6                      same
///   epochs initial/subtree/inter/final 150/150/80/200      see Cpu
///   fine-tune every n-th growth     3                      same
///   batch, Adam lr, weight decay    256, 1e-3, 1e-5        same
///   KL annealing start, decay       0, 0.001 per epoch     0, scaled to reach the paper's end weight
///   leaf kept when its mass ≥       1 %                    same
/// </code>
/// </summary>
public sealed record TreeVaeOptions
{
    /// <summary>Vector variant or CNN-TreeVAE (A.5); the CNN settings below apply only to the latter.</summary>
    public TreeVaeArchitecture Architecture { get; init; } = TreeVaeArchitecture.Mlp;

    /// <summary>CNN-TreeVAE: channels C of every latent map (A.5: 16 for MNIST/Fashion).</summary>
    public int LatentChannels { get; init; } = 16;

    /// <summary>CNN-TreeVAE: side R of every latent map and of the bottom-up maps (A.5: 2 for MNIST/Fashion).</summary>
    public int LatentSide { get; init; } = 2;

    /// <summary>CNN-TreeVAE: channels of the bottom-up maps d_h (A.5: 32) and of the transformations' hidden convolutions.</summary>
    public int BottomUpChannels { get; init; } = 32;

    /// <summary>CNN-TreeVAE: channels of the encoder's stride-2 convolutions before the last one (which gives the
    /// bottom-up channels); the decoder runs them in reverse. Ours: the spec names only "a small CNN".</summary>
    public int[] ConvChannels { get; init; } = [32, 32, 32];

    /// <summary>CNN-TreeVAE: dropout in the routers' hidden layers (A.5 names dropout, not its rate; ours).</summary>
    public float RouterDropout { get; init; } = 0.1f;

    /// <summary>CNN-TreeVAE: spectral normalisation on the decoders' convolutions (A.5: on for MNIST/Fashion).</summary>
    public bool SpectralNorm { get; init; } = true;

    /// <summary>Leaves to grow to (A.4 "num_clusters_tree"): the requested K.</summary>
    public int MaxLeaves { get; init; } = 10;

    /// <summary>Size of every latent z_i (A.5: 8 for MNIST and Fashion).</summary>
    public int LatentDim { get; init; } = 8;

    /// <summary>Hidden width of transformations and routers (A.5: 128).</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>Width of the bottom-up features d_h (one per depth, A.2).</summary>
    public int BottomUpWidth { get; init; } = 128;

    /// <summary>Hidden widths of the encoder MLP (input → … → <see cref="BottomUpWidth"/>).</summary>
    public int[] EncoderHidden { get; init; } = [512, 256];

    /// <summary>Hidden widths of each leaf decoder MLP (latent → … → input).</summary>
    public int[] DecoderHidden { get; init; } = [128, 256, 512];

    /// <summary>Configured levels; the deepest leaf sits at depth Levels − 1 (A.4: 6 levels, max depth 5).</summary>
    public int Levels { get; init; } = 6;

    /// <summary>LeakyReLU slope of every hidden layer (A.5: 0.3).</summary>
    public float LeakySlope { get; init; } = 0.3f;

    public TreeVaeLikelihood Likelihood { get; init; } = TreeVaeLikelihood.Bernoulli;

    /// <summary>Epochs of the first two-leaf tree (A.4 step 1: 150).</summary>
    public int InitialEpochs { get; init; } = 150;

    /// <summary>Epochs of each new subtree on its leaf's samples, the tree frozen (A.4 step 2: 150).</summary>
    public int SubtreeEpochs { get; init; } = 150;

    /// <summary>Epochs of the whole-tree fine-tune every <see cref="IntermediateEvery"/>-th growth (A.4: 80 for MNIST; 0 = none).</summary>
    public int IntermediateEpochs { get; init; } = 80;

    public int IntermediateEvery { get; init; } = 3;

    /// <summary>Epochs of the final whole-tree fine-tune after pruning (A.4 step 4: 200 for MNIST).</summary>
    public int FinalEpochs { get; init; } = 200;

    public int BatchSize { get; init; } = 256;

    public double Lr { get; init; } = 1e-3;

    public double WeightDecay { get; init; } = 1e-5;

    /// <summary>KL annealing α = min(1, start + (epoch + 1)·decay) in the initial, subtree and intermediate phases (A.3: MNIST 0, 0.001).</summary>
    public float KlStart { get; init; }

    public float KlDecay { get; init; } = 0.001f;

    /// <summary>A leaf holding less than this share of the samples (argmax) is pruned (A.4 step 3: 1 %); also the "effective leaf" mass.</summary>
    public double MinLeafFraction { get; init; } = 0.01;

    /// <summary>Growth iterations at most (A.4: 150).</summary>
    public int MaxGrowth { get; init; } = 150;

    /// <summary>The original recipe (related-seeds A.3–A.5, MNIST/Fashion configs).</summary>
    public static TreeVaeOptions Paper(int k) => new() { MaxLeaves = k };

    /// <summary>
    /// Epochs for 2 shared cores: 30 initial, 15 per subtree, 8 at every third growth and 30 final; the annealing decay
    /// scaled by 150/30 so the initial phase ends at the paper's weight α = 0.15 rather than at 0.03 (the weight, not
    /// the epoch count, sets how far the KL pulls the latents).
    /// </summary>
    public static TreeVaeOptions Cpu(int k) => new()
    {
        MaxLeaves = k, InitialEpochs = 30, SubtreeEpochs = 15, IntermediateEpochs = 8, FinalEpochs = 30, KlDecay = 0.005f,
    };

    public static readonly string[] Presets = ["cpu", "spec"];

    public static TreeVaeOptions FromPreset(string preset, int k) => preset switch
    {
        "cpu" => Cpu(k),
        "spec" => Paper(k),
        _ => throw new SettingException("Preset", $"unknown TreeVAE preset {preset}; expected one of {string.Join(", ", Presets)}"),
    };

    /// <summary>
    /// The preset with the epochs of "I/S/M/F" (initial/subtree/intermediate/final, e.g. "30/15/8/30") when given;
    /// the annealing decay keeps the preset's end weight over the initial phase.
    /// </summary>
    public static TreeVaeOptions Create(string preset, int k, string? epochs = null, TreeVaeLikelihood? likelihood = null,
        TreeVaeArchitecture architecture = TreeVaeArchitecture.Mlp)
    {
        var o = FromPreset(preset, k);
        if (likelihood is { } l) o = o with { Likelihood = l };
        // A.5: CNN-TreeVAE configures seven levels (max depth 6).
        if (architecture == TreeVaeArchitecture.Cnn) o = o with { Architecture = architecture, Levels = 7 };
        if (epochs is null) return o;
        var parts = epochs.Split('/');
        if (parts.Length != 4 || !parts.All(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
            throw new SettingException("TreeEpochs", $"expected initial/subtree/intermediate/final epochs such as 30/15/8/30, got '{epochs}'");
        var e = parts.Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        float endWeight = o.KlStart + o.InitialEpochs * o.KlDecay;
        o = o with
        {
            InitialEpochs = e[0], SubtreeEpochs = e[1], IntermediateEpochs = e[2], FinalEpochs = e[3],
            KlDecay = e[0] > 0 ? (endWeight - o.KlStart) / e[0] : o.KlDecay,
        };
        try { o.Validate(); }
        catch (SettingException x) when (x.ParamName?.EndsWith("Epochs", StringComparison.Ordinal) == true)
        {
            throw new SettingException("TreeEpochs", $"{x.Setting}: {x.Message.Split(" (Parameter")[0]}");
        }
        return o;
    }

    /// <summary>Throws a <see cref="SettingException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        static void AtLeast(string name, double v, double min)
        {
            if (!(v >= min) || !double.IsFinite(v)) throw new SettingException(name, $"must be a finite number ≥ {min}, got {v}");
        }
        AtLeast(nameof(MaxLeaves), MaxLeaves, 1);
        AtLeast(nameof(LatentDim), LatentDim, 1);
        AtLeast(nameof(Hidden), Hidden, 1);
        AtLeast(nameof(BottomUpWidth), BottomUpWidth, 1);
        AtLeast(nameof(Levels), Levels, 2);
        AtLeast(nameof(InitialEpochs), InitialEpochs, 1);
        AtLeast(nameof(SubtreeEpochs), SubtreeEpochs, 1);
        AtLeast(nameof(IntermediateEpochs), IntermediateEpochs, 0);
        AtLeast(nameof(IntermediateEvery), IntermediateEvery, 1);
        AtLeast(nameof(FinalEpochs), FinalEpochs, 0);
        AtLeast(nameof(BatchSize), BatchSize, 2);
        AtLeast(nameof(Lr), Lr, 0);
        AtLeast(nameof(WeightDecay), WeightDecay, 0);
        AtLeast(nameof(KlStart), KlStart, 0);
        AtLeast(nameof(KlDecay), KlDecay, 0);
        AtLeast(nameof(MaxGrowth), MaxGrowth, 0);
        if (!(MinLeafFraction is >= 0 and < 0.5)) throw new SettingException(nameof(MinLeafFraction), $"must be in [0, 0.5), got {MinLeafFraction}");
        if (EncoderHidden.Any(h => h < 1) || DecoderHidden.Any(h => h < 1)) throw new SettingException(nameof(EncoderHidden), "hidden widths must be ≥ 1");
        if (!Enum.IsDefined(Architecture)) throw new SettingException(nameof(Architecture), $"unknown architecture {Architecture}");
        AtLeast(nameof(LatentChannels), LatentChannels, 1);
        AtLeast(nameof(LatentSide), LatentSide, 1);
        AtLeast(nameof(BottomUpChannels), BottomUpChannels, 1);
        if (ConvChannels.Length == 0 || ConvChannels.Any(c => c < 1)) throw new SettingException(nameof(ConvChannels), "needs at least one width, each ≥ 1");
        if (!(RouterDropout is >= 0 and < 1)) throw new SettingException(nameof(RouterDropout), $"must be in [0, 1), got {RouterDropout}");
        if (MaxLeaves > 1 << (Levels - 1)) throw new SettingException(nameof(MaxLeaves), $"{MaxLeaves} leaves do not fit in a binary tree of depth {Levels - 1}");
        if (InitialEpochs > 1_000_000 || SubtreeEpochs > 1_000_000 || FinalEpochs > 1_000_000 || IntermediateEpochs > 1_000_000)
            throw new SettingException(nameof(InitialEpochs), "epochs must be ≤ 1e6");
    }
}
