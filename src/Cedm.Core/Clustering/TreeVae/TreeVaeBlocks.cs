using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Clustering.TreeVae;

/// <summary>The layer stacks of TreeVAE's vector variant (related-seeds A.5).</summary>
internal static class TreeVaeLayers
{
    /// <summary>[Linear without bias → BatchNorm → LeakyReLU] per hidden width, then a Linear with bias to <paramref name="output"/>
    /// (or nothing more when <paramref name="output"/> is 0: the stack ends on its last activation).</summary>
    public static Sequential Mlp(int input, IReadOnlyList<int> hidden, int output, float slope, Rng rng)
    {
        var s = new Sequential();
        int width = input;
        foreach (int h in hidden)
        {
            s.Add(new Linear(width, h, rng, bias: false));
            s.Add(new BatchNorm(h));
            s.Add(new LeakyReLU(slope));
            width = h;
        }
        if (output > 0) s.Add(new Linear(width, output, rng));
        return s;
    }
}

/// <summary>A layer giving a Gaussian's mean and variance over flat latents [N, latent]: a node's bottom-up head or
/// the transformation from its parent (related-seeds A.1–A.2).</summary>
public abstract class GaussianLayer : Module
{
    public abstract (Tensor Mu, Tensor Var) Forward(Tensor h);
}

/// <summary>Two linear heads giving a Gaussian's mean and variance (the variance through a softplus, A.1–A.2): the
/// "Dense" head of a node over the bottom-up feature, and the last layer of every transformation.</summary>
public sealed class GaussianHead : GaussianLayer
{
    private readonly Linear _mu, _var;

    public GaussianHead(int input, int latent, Rng rng)
    {
        _mu = RegisterModule("mu", new Linear(input, latent, rng));
        _var = RegisterModule("var", new Linear(input, latent, rng));
    }

    /// <summary>Smallest variance: softplus underflows to 0 in float32 below about −88, and the KL's log σ² would be −∞.</summary>
    public const float MinVariance = 1e-7f;

    public override (Tensor Mu, Tensor Var) Forward(Tensor h) => (_mu.Forward(h), _var.Forward(h).Softplus() + MinVariance);
}

/// <summary>Edge transformation p(z_j | z_pa(j)) = N(μ_p, σ²_p) (A.1, A.5): one hidden layer, then the Gaussian heads.</summary>
public sealed class Transformation : GaussianLayer
{
    private readonly Sequential _hidden;
    private readonly GaussianHead _head;

    public Transformation(int latent, int hidden, float slope, Rng rng)
    {
        _hidden = RegisterModule("hidden", TreeVaeLayers.Mlp(latent, [hidden], 0, slope, rng));
        _head = RegisterModule("head", new GaussianHead(hidden, latent, rng));
    }

    public override (Tensor Mu, Tensor Var) Forward(Tensor zParent) => _head.Forward(_hidden.Forward(zParent));
}

/// <summary>A router (A.1, A.5): two hidden layers, one output unit, sigmoid = the probability of going left; [N].</summary>
public sealed class Router : Layer
{
    private readonly Sequential _net;

    public Router(int input, int hidden, float slope, Rng rng) =>
        _net = RegisterModule("net", TreeVaeLayers.Mlp(input, [hidden, hidden], 1, slope, rng));

    public override Tensor Forward(Tensor h) => _net.Forward(h).Sigmoid().Reshape(h.Dim(0));
}

/// <summary>
/// The layers of one TreeVAE architecture (related-seeds A.5): the vector variant (<see cref="MlpTreeVaeBlocks"/>) or
/// CNN-TreeVAE (<see cref="ConvTreeVaeBlocks"/>). Latents travel between nodes as flat rows [N, <see cref="LatentSize"/>];
/// bottom-up features d_h are whatever the encoder gives (vectors, or feature maps).
/// </summary>
public abstract class TreeVaeBlocks
{
    /// <summary>Elements of one z_i (a C×R×R map counts C·R²).</summary>
    public abstract int LatentSize { get; }

    /// <summary>x [N, D] → d_{Levels−1}.</summary>
    public abstract Layer Encoder(Rng rng);

    /// <summary>d_{h+1} → d_h (A.2: one per depth).</summary>
    public abstract Layer BottomUp(Rng rng);

    public abstract GaussianLayer Transformation(Rng rng);

    public abstract GaussianLayer Dense(Rng rng);

    /// <summary>The generative router over z_i [N, latent] → [N] probabilities of going left.</summary>
    public abstract Layer PRouter(Rng rng);

    /// <summary>The posterior router over d_depth → [N].</summary>
    public abstract Layer QRouter(Rng rng);

    /// <summary>z_l [N, latent] → logits (or means) [N, D].</summary>
    public abstract Layer Decoder(Rng rng);

    /// <summary>The blocks <paramref name="options"/> name; CNN-TreeVAE needs the image shape [C, H, W] of the flattened inputs.</summary>
    public static TreeVaeBlocks For(TreeVaeOptions options, int inputDim, int[]? imageShape) => options.Architecture switch
    {
        TreeVaeArchitecture.Mlp => new MlpTreeVaeBlocks(options, inputDim),
        TreeVaeArchitecture.Cnn => new ConvTreeVaeBlocks(options, ConvTreeVaeBlocks.RequireImage(imageShape, inputDim)),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Architecture, "unknown TreeVAE architecture"),
    };
}

/// <summary>The vector variant (A.5 "original TreeVAE"): MLP encoder, bottom-up chain, transformations, routers and decoders.</summary>
internal sealed class MlpTreeVaeBlocks(TreeVaeOptions o, int inputDim) : TreeVaeBlocks
{
    public override int LatentSize => o.LatentDim;

    public override Layer Encoder(Rng rng) => TreeVaeLayers.Mlp(inputDim, o.EncoderHidden, o.BottomUpWidth, o.LeakySlope, rng);

    public override Layer BottomUp(Rng rng) => TreeVaeLayers.Mlp(o.BottomUpWidth, [o.BottomUpWidth], 0, o.LeakySlope, rng);

    public override GaussianLayer Transformation(Rng rng) => new Transformation(o.LatentDim, o.Hidden, o.LeakySlope, rng);

    public override GaussianLayer Dense(Rng rng) => new GaussianHead(o.BottomUpWidth, o.LatentDim, rng);

    public override Layer PRouter(Rng rng) => new Router(o.LatentDim, o.Hidden, o.LeakySlope, rng);

    public override Layer QRouter(Rng rng) => new Router(o.BottomUpWidth, o.Hidden, o.LeakySlope, rng);

    public override Layer Decoder(Rng rng) => TreeVaeLayers.Mlp(o.LatentDim, o.DecoderHidden, inputDim, o.LeakySlope, rng);
}

/// <summary>
/// What one tree node owns (A.1–A.2): the transformation from its parent (not the root), its bottom-up Gaussian head,
/// the two routers when it decides (p reads z_i, q reads d_depth), the decoder when it is a leaf. A pass-through node
/// left by pruning has neither routers nor decoder.
/// </summary>
public sealed class TreeVaeNode : Module
{
    public TreeVaeNode(bool root, bool router, bool leaf, TreeVaeBlocks blocks, Rng rng)
    {
        if (!root) Transform = RegisterModule("transform", blocks.Transformation(rng));
        Dense = RegisterModule("dense", blocks.Dense(rng));
        if (router)
        {
            PRouter = RegisterModule("p_router", blocks.PRouter(rng));
            QRouter = RegisterModule("q_router", blocks.QRouter(rng));
        }
        if (leaf) Decoder = RegisterModule("decoder", blocks.Decoder(rng));
    }

    public GaussianLayer? Transform { get; }
    public GaussianLayer Dense { get; }
    public Layer? PRouter { get; }
    public Layer? QRouter { get; }
    public Layer? Decoder { get; }
}
