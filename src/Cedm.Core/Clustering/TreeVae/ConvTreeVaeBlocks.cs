using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Clustering.TreeVae;

/// <summary>
/// CNN-TreeVAE (related-seeds A.5, the Diffuse-TreeVAE variant) for square images: every latent is a C×R×R map
/// (16×2×2 for 28×28 grey), every bottom-up feature a B×R×R map (B = 32). From the spec: transformations are three
/// conv3×3 (BN, swish) then conv3×3 heads for μ and the softplus variance; a node's Dense head is two conv3×3 heads;
/// a router is conv3×3 to one channel, flattened, 2 × [Linear 128 → BN → swish → dropout], then one unit and a
/// sigmoid; decoders carry spectral norm. Ours, where the spec says only "a small CNN": the encoder halves the side
/// with stride-2 conv3×3 (BN, swish) until it is R (28 → 14 → 7 → 4 → 2), and each leaf decoder mirrors it with
/// conv3×3 (BN, swish) and bilinear resizing back up to the input side, then a conv3×3 to the image's channels.
/// </summary>
internal sealed class ConvTreeVaeBlocks : TreeVaeBlocks
{
    private readonly TreeVaeOptions _o;
    private readonly int _channels;
    private readonly int[] _sides;      // input side, then each stride-2 step's output, ending at R
    private readonly int[] _widths;     // output channels of each encoder step (the last is B)

    public ConvTreeVaeBlocks(TreeVaeOptions options, int[] imageShape)
    {
        _o = options;
        _channels = imageShape[0];
        var sides = new List<int> { imageShape[1] };
        while (sides[^1] > options.LatentSide) sides.Add((sides[^1] - 1) / 2 + 1);
        if (sides[^1] != options.LatentSide)
            throw new ArgumentException($"CNN-TreeVAE: a side of {imageShape[1]} halves to {sides[^1]}, not to the latent side {options.LatentSide}");
        _sides = [.. sides];
        int steps = _sides.Length - 1;
        _widths = Enumerable.Range(0, steps)
            .Select(i => i == steps - 1 ? options.BottomUpChannels : options.ConvChannels[Math.Min(i, options.ConvChannels.Length - 1)]).ToArray();
    }

    /// <summary>The image shape [C, H, W] (square) the flattened inputs of <paramref name="inputDim"/> values hold.</summary>
    public static int[] RequireImage(int[]? imageShape, int inputDim)
    {
        if (imageShape is not { Length: 3 } || imageShape[1] != imageShape[2] || imageShape.Any(v => v < 1) || imageShape[0] * imageShape[1] * imageShape[2] != inputDim)
            throw new ArgumentException($"CNN-TreeVAE needs square images whose [C, H, W] holds the {inputDim} input values (got {(imageShape is null ? "no image shape" : $"[{string.Join(", ", imageShape)}]")}); feature vectors take the vector variant");
        return imageShape;
    }

    private int Lc => _o.LatentChannels;

    private int R => _o.LatentSide;

    public override int LatentSize => Lc * R * R;

    public override Layer Encoder(Rng rng)
    {
        var s = new Sequential(new Unflatten(_channels, _sides[0]));
        int input = _channels;
        foreach (int width in _widths)
        {
            AddBlock(s, input, width, stride: 2, rng);
            input = width;
        }
        return s;
    }

    public override Layer BottomUp(Rng rng) => AddBlock(new Sequential(), _o.BottomUpChannels, _o.BottomUpChannels, 1, rng);

    public override GaussianLayer Transformation(Rng rng)
    {
        int b = _o.BottomUpChannels;
        var hidden = new Sequential(new Unflatten(Lc, R));
        AddBlock(hidden, Lc, b, 1, rng);
        AddBlock(hidden, b, b, 1, rng);
        AddBlock(hidden, b, b, 1, rng);
        return new ConvGaussian(hidden, new ConvGaussianHead(b, Lc, rng));
    }

    public override GaussianLayer Dense(Rng rng) => new ConvGaussian(new Identity(), new ConvGaussianHead(_o.BottomUpChannels, Lc, rng));

    public override Layer PRouter(Rng rng) => new ConvRouter(Lc, R, flatInput: true, _o.Hidden, _o.RouterDropout, rng);

    public override Layer QRouter(Rng rng) => new ConvRouter(_o.BottomUpChannels, R, flatInput: false, _o.Hidden, _o.RouterDropout, rng);

    public override Layer Decoder(Rng rng)
    {
        var s = new Sequential(new Unflatten(Lc, R));
        int input = Lc;
        for (int j = _widths.Length; j >= 1; j--)
        {
            int width = _widths[j - 1];
            s.Add(Conv(input, width, 1, bias: false, rng));
            s.Add(new BatchNorm(width));
            s.Add(new SiLU());
            s.Add(new Resize(_sides[j - 1]));
            input = width;
        }
        s.Add(Conv(input, _channels, 1, bias: true, rng));
        s.Add(new Flatten());
        return s;
    }

    private Layer Conv(int input, int output, int stride, bool bias, Rng rng) => _o.SpectralNorm
        ? new SpectralNormConv2d(input, output, 3, rng, stride, padding: 1, bias: bias)
        : new Conv2d(input, output, 3, rng, stride, padding: 1, bias: bias);

    /// <summary>conv3×3 (no bias: BN follows) → BN → swish.</summary>
    private static Sequential AddBlock(Sequential s, int input, int output, int stride, Rng rng)
    {
        s.Add(new Conv2d(input, output, 3, rng, stride, padding: 1, bias: false));
        s.Add(new BatchNorm(output));
        s.Add(new SiLU());
        return s;
    }
}

/// <summary>[N, C·S·S] → [N, C, S, S] (identity on input that is already a map).</summary>
internal sealed class Unflatten(int channels, int side) : Layer
{
    public override Tensor Forward(Tensor x) => x.Rank == 4 ? x : x.Reshape(x.Dim(0), channels, side, side);
}

/// <summary>Bilinear resizing of [N, C, H, W] to a square side (PyTorch's interpolate, align_corners = False).</summary>
internal sealed class Resize(int side) : Layer
{
    public override Tensor Forward(Tensor x) => x.Dim(2) == side && x.Dim(3) == side ? x : x.Resize2d(side, side, ResizeFilter.Bilinear);
}

/// <summary>Two conv3×3 heads over a map: μ and softplus variance, each flattened to [N, C·R·R].</summary>
internal sealed class ConvGaussianHead : Module
{
    private readonly Conv2d _mu, _var;

    public ConvGaussianHead(int input, int latentChannels, Rng rng)
    {
        _mu = RegisterModule("mu", new Conv2d(input, latentChannels, 3, rng, padding: 1));
        _var = RegisterModule("var", new Conv2d(input, latentChannels, 3, rng, padding: 1));
    }

    public (Tensor Mu, Tensor Var) Forward(Tensor h)
    {
        int n = h.Dim(0);
        var mu = _mu.Forward(h);
        var variance = _var.Forward(h).Softplus() + GaussianHead.MinVariance;
        return (mu.Reshape(n, mu.Size / n), variance.Reshape(n, variance.Size / n));
    }
}

/// <summary>A hidden stack then the Gaussian heads: a transformation (z_parent → prior moments) or a Dense head (d → posterior moments).</summary>
internal sealed class ConvGaussian : GaussianLayer
{
    private readonly Layer _hidden;
    private readonly ConvGaussianHead _head;

    public ConvGaussian(Layer hidden, ConvGaussianHead head)
    {
        _hidden = RegisterModule("hidden", hidden);
        _head = RegisterModule("head", head);
    }

    public override (Tensor Mu, Tensor Var) Forward(Tensor h) => _head.Forward(_hidden.Forward(h));
}

/// <summary>CNN-TreeVAE router: conv3×3 to one channel, flattened R², 2 × [Linear → BN → swish → dropout], one unit, sigmoid; [N].</summary>
internal sealed class ConvRouter : Layer
{
    private readonly Unflatten? _unflatten;
    private readonly Conv2d _conv;
    private readonly Sequential _mlp;

    public ConvRouter(int channels, int side, bool flatInput, int hidden, float dropout, Rng rng)
    {
        if (flatInput) _unflatten = new Unflatten(channels, side);
        _conv = RegisterModule("conv", new Conv2d(channels, 1, 3, rng, padding: 1));
        _mlp = RegisterModule("mlp", new Sequential());
        int width = side * side;
        for (int i = 0; i < 2; i++)
        {
            _mlp.Add(new Linear(width, hidden, rng, bias: false));
            _mlp.Add(new BatchNorm(hidden));
            _mlp.Add(new SiLU());
            _mlp.Add(new Dropout(dropout, new Rng(rng.NextUInt64())));
            width = hidden;
        }
        _mlp.Add(new Linear(width, 1, rng));
    }

    public override Tensor Forward(Tensor x)
    {
        var map = _conv.Forward(_unflatten?.Forward(x) ?? x);
        int n = map.Dim(0);
        return _mlp.Forward(map.Reshape(n, map.Size / n)).Sigmoid().Reshape(n);
    }
}
