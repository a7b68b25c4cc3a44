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

/// <summary>Two linear heads giving a Gaussian's mean and variance (the variance through a softplus, A.1–A.2): the
/// "Dense" head of a node over the bottom-up feature, and the last layer of every transformation.</summary>
public sealed class GaussianHead : Module
{
    private readonly Linear _mu, _var;

    public GaussianHead(int input, int latent, Rng rng)
    {
        _mu = RegisterModule("mu", new Linear(input, latent, rng));
        _var = RegisterModule("var", new Linear(input, latent, rng));
    }

    /// <summary>Smallest variance: softplus underflows to 0 in float32 below about −88, and the KL's log σ² would be −∞.</summary>
    public const float MinVariance = 1e-7f;

    public (Tensor Mu, Tensor Var) Forward(Tensor h) => (_mu.Forward(h), _var.Forward(h).Softplus() + MinVariance);
}

/// <summary>Edge transformation p(z_j | z_pa(j)) = N(μ_p, σ²_p) (A.1, A.5): one hidden layer, then the Gaussian heads.</summary>
public sealed class Transformation : Module
{
    private readonly Sequential _hidden;
    private readonly GaussianHead _head;

    public Transformation(int latent, int hidden, float slope, Rng rng)
    {
        _hidden = RegisterModule("hidden", TreeVaeLayers.Mlp(latent, [hidden], 0, slope, rng));
        _head = RegisterModule("head", new GaussianHead(hidden, latent, rng));
    }

    public (Tensor Mu, Tensor Var) Forward(Tensor zParent) => _head.Forward(_hidden.Forward(zParent));
}

/// <summary>A router (A.1, A.5): two hidden layers, one output unit, sigmoid = the probability of going left; [N].</summary>
public sealed class Router : Module
{
    private readonly Sequential _net;

    public Router(int input, int hidden, float slope, Rng rng) =>
        _net = RegisterModule("net", TreeVaeLayers.Mlp(input, [hidden, hidden], 1, slope, rng));

    public Tensor Forward(Tensor h) => _net.Forward(h).Sigmoid().Reshape(h.Dim(0));
}

/// <summary>
/// What one tree node owns (A.1–A.2): the transformation from its parent (not the root), its bottom-up Gaussian head,
/// the two routers when it decides (p reads z_i, q reads d_depth), the decoder when it is a leaf. A pass-through node
/// left by pruning has neither routers nor decoder.
/// </summary>
public sealed class TreeVaeNode : Module
{
    public TreeVaeNode(bool root, bool router, bool leaf, TreeVaeOptions o, int inputDim, Rng rng)
    {
        if (!root) Transform = RegisterModule("transform", new Transformation(o.LatentDim, o.Hidden, o.LeakySlope, rng));
        Dense = RegisterModule("dense", new GaussianHead(o.BottomUpWidth, o.LatentDim, rng));
        if (router)
        {
            PRouter = RegisterModule("p_router", new Router(o.LatentDim, o.Hidden, o.LeakySlope, rng));
            QRouter = RegisterModule("q_router", new Router(o.BottomUpWidth, o.Hidden, o.LeakySlope, rng));
        }
        if (leaf) Decoder = RegisterModule("decoder", TreeVaeLayers.Mlp(o.LatentDim, o.DecoderHidden, inputDim, o.LeakySlope, rng));
    }

    public Transformation? Transform { get; }
    public GaussianHead Dense { get; }
    public Router? PRouter { get; }
    public Router? QRouter { get; }
    public Sequential? Decoder { get; }
}
