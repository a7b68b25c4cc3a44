using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Clustering.TreeVae;

/// <summary>One pass of <see cref="TreeVaeModel.Forward"/>: the loss terms, each node's posterior sample and each leaf's decode.</summary>
/// <param name="Samples">z_i per node [N, latent] (null where the node was not needed).</param>
/// <param name="Decodes">Decoder output per leaf [N, D], probabilities for a Bernoulli model (null where not needed).</param>
public sealed record TreeVaeOutput(TreeElboTerms Terms, Tensor?[] Samples, Tensor?[] Decodes);

/// <summary>
/// TreeVAE (related-seeds A.1–A.3, A.5), built from the vector or the CNN-TreeVAE blocks (<see cref="TreeVaeBlocks"/>;
/// latents pass between nodes as flat rows either way): an encoder and a bottom-up chain give one feature d_h per
/// depth; top-down, every node merges its bottom-up Gaussian with the prior its parent's sample induces (LadderVAE's
/// precision merge) and samples z_i; q-routers (reading d) give each node's reach P(i|x); leaves decode. Nodes are the
/// modules "node{i}" of a <see cref="TreeShape"/>, so a grown or pruned model is a new instance loaded from the old
/// one's state (<see cref="WithShape"/>).
/// </summary>
public sealed class TreeVaeModel : Module
{
    private readonly Layer _encoder;
    private readonly Layer[] _bottomUp;
    private readonly TreeVaeNode[] _nodes;

    /// <param name="imageShape">[C, H, W] of the flattened inputs; required by CNN-TreeVAE (<see cref="TreeVaeArchitecture.Cnn"/>).</param>
    public TreeVaeModel(TreeShape shape, TreeVaeOptions options, int inputDim, Rng rng, int[]? imageShape = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDim, 1);
        Shape = shape; Options = options; InputDim = inputDim; ImageShape = imageShape;
        if (shape.Depth.Max() >= options.Levels) throw new ArgumentException($"the tree is {shape.Depth.Max()} deep; the model has {options.Levels} levels");
        var blocks = TreeVaeBlocks.For(options, inputDim, imageShape);
        LatentSize = blocks.LatentSize;
        _encoder = RegisterModule("encoder", blocks.Encoder(rng));
        _bottomUp = new Layer[options.Levels - 1];
        for (int h = options.Levels - 2; h >= 0; h--)
            _bottomUp[h] = RegisterModule($"bottom_up{h}", blocks.BottomUp(rng));
        _nodes = new TreeVaeNode[shape.Nodes];
        for (int i = 0; i < shape.Nodes; i++)
            _nodes[i] = RegisterModule($"node{i}", new TreeVaeNode(i == 0, shape.IsRouter(i), shape.IsLeaf(i), blocks, rng));
    }

    /// <summary>[C, H, W] of the flattened inputs when known.</summary>
    public int[]? ImageShape { get; }

    /// <summary>Elements of one latent z_i.</summary>
    public int LatentSize { get; }

    public TreeShape Shape { get; }

    public TreeVaeOptions Options { get; }

    public int InputDim { get; }

    public int[] Leaves => Shape.Leaves;

    public TreeVaeNode Node(int i) => _nodes[i];

    /// <summary>d_0 … d_{Levels−1}: d_last = encoder(x), d_h = bottom_up_h(d_{h+1}) (A.2: one feature per depth).</summary>
    public Tensor[] BottomUp(Tensor x)
    {
        if (x.Rank != 2 || x.Dim(1) != InputDim) throw new ArgumentException($"TreeVAE expects inputs [N, {InputDim}], got {Shapes.Format(x.Shape)}.");
        var d = new Tensor[Options.Levels];
        d[^1] = _encoder.Forward(x);
        for (int h = Options.Levels - 2; h >= 0; h--) d[h] = _bottomUp[h].Forward(d[h + 1]);
        return d;
    }

    /// <summary>
    /// The ELBO pass (A.2–A.3) with one reparameterised sample per node. <paramref name="active"/> selects the nodes
    /// whose terms count (null = all, the whole-tree phases); nodes neither active nor above an active one are skipped,
    /// so training a new subtree under the frozen tree decodes only its two leaves.
    /// </summary>
    public TreeVaeOutput Forward(Tensor x, Rng rng, IReadOnlyList<bool>? active = null)
    {
        var needed = Needed(active);
        var d = BottomUp(x);
        int n = x.Dim(0), nodes = Shape.Nodes;
        var z = new Tensor?[nodes];
        var rec = new Tensor?[nodes];
        var nodeKl = new Tensor?[nodes];
        var q = new Tensor?[nodes];
        var p = new Tensor?[nodes];
        var decodes = new Tensor?[nodes];
        Tensor? rootKl = null;
        for (int i = 0; i < nodes; i++)
        {
            if (!needed[i]) continue;
            var node = _nodes[i];
            var (muHat, varHat) = node.Dense.Forward(d[Shape.Depth[i]]);
            if (i == 0)
            {
                z[0] = Reparameterise(muHat, varHat, rng);
                rootKl = Tensor.GaussianKlFromVariance(muHat, varHat, Tensor.Zeros(1), Tensor.Ones(1)).Sum(1);
            }
            else
            {
                var (muP, varP) = node.Transform!.Forward(z[Shape.Parent[i]]!);
                var (muQ, varQ) = Tensor.PrecisionMerge(muHat, varHat, muP, varP);
                z[i] = Reparameterise(muQ, varQ, rng);
                nodeKl[i] = Tensor.GaussianKlFromVariance(muQ, varQ, muP, varP).Sum(1);
            }
            if (Shape.IsRouter(i))
            {
                q[i] = node.QRouter!.Forward(d[Shape.Depth[i]]);
                p[i] = node.PRouter!.Forward(z[i]!);
            }
            if (Shape.IsLeaf(i))
            {
                var logits = node.Decoder!.Forward(z[i]!);
                (decodes[i], rec[i]) = Options.Likelihood == TreeVaeLikelihood.Bernoulli
                    ? BernoulliTerms(logits, x)
                    : (logits, (logits - x).Square().Sum(1));
            }
        }
        var terms = TreeElbo.Compute(Shape, rec, rootKl, nodeKl, q, p, active);
        return new TreeVaeOutput(terms, z, decodes);
    }

    /// <summary>The decode (probabilities, outside the graph: only pictures use them) and the summed BCE from the logits.</summary>
    private static (Tensor Probs, Tensor Loss) BernoulliTerms(Tensor logits, Tensor x)
    {
        Tensor probs;
        using (GradMode.NoGrad()) probs = logits.Sigmoid();
        return (probs, Tensor.BinaryCrossEntropyWithLogitsSum(logits, x));
    }

    private static Tensor Reparameterise(Tensor mu, Tensor variance, Rng rng) =>
        mu + variance.Sqrt() * Tensor.Randn(rng, mu.ShapeArray());

    /// <summary>Active nodes and every ancestor of one (their samples and routers feed the active terms).</summary>
    private bool[] Needed(IReadOnlyList<bool>? active)
    {
        var needed = new bool[Shape.Nodes];
        if (active == null) { Array.Fill(needed, true); return needed; }
        if (active.Count != Shape.Nodes) throw new ArgumentException($"one entry per node ({Shape.Nodes})", nameof(active));
        for (int i = 0; i < Shape.Nodes; i++)
            for (int j = i; j >= 0 && active[i] && !needed[j]; j = Shape.Parent[j]) needed[j] = true;
        return needed;
    }

    /// <summary>P(l | x) of every leaf from the q-routers alone (A.2: the soft clustering), [N, leaves], without sampling;
    /// in evaluation mode (running statistics), whatever mode the model is in.</summary>
    public float[] LeafProbabilities(Tensor x, int chunkRows = 4096)
    {
        int n = x.Dim(0), leaves = Leaves.Length;
        var result = new float[(long)n * leaves];
        using var _ = GradMode.NoGrad();
        using (EvaluationScope())
            for (int start = 0; start < n; start += chunkRows)
            {
                int rows = Math.Min(chunkRows, n - start);
                var d = BottomUp(x.Slice(0, start, rows));
                var reach = Shape.Reach(Tensor.Ones(rows), i => Shape.IsRouter(i) ? _nodes[i].QRouter!.Forward(d[Shape.Depth[i]]) : null);
                LeafMatrix(reach, rows).CopyTo(result, (long)start * leaves);
            }
        return result;
    }

    /// <summary>
    /// Generation (A.1): z_0 ~ N(0, I), every node's z drawn from its parent's transformation, reach π from the
    /// p-routers; every leaf decodes. One root draw gives one image per leaf ("sample_all_leaves").
    /// Returns the decodes [leaves][N, D] (probabilities for a Bernoulli model) and π [N, leaves].
    /// </summary>
    public (Tensor[] Decodes, float[] Pi) Generate(int n, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        using var _ = GradMode.NoGrad();
        var z = new Tensor[Shape.Nodes];
        z[0] = Tensor.Randn(rng, [n, LatentSize]);
        // Children are drawn when their parent is visited (the draw order a seed's images depend on).
        for (int i = 0; i < Shape.Nodes; i++)
            foreach (int c in Shape.Children[i])
            {
                var (mu, variance) = _nodes[c].Transform!.Forward(z[i]);
                z[c] = Reparameterise(mu, variance, rng);
            }
        var reach = Shape.Reach(Tensor.Ones(n), i => Shape.IsRouter(i) ? _nodes[i].PRouter!.Forward(z[i]) : null);
        return (Leaves.Select(l => Decode(l, z[l])).ToArray(), LeafMatrix(reach, n));
    }

    /// <summary>Reconstructions of real inputs through every leaf (A′.1 "recons_all_leaves"): decodes [leaves][N, D] and P(l|x) [N, leaves].</summary>
    public (Tensor[] Decodes, float[] Probabilities) Reconstruct(Tensor x, Rng rng)
    {
        using var _ = GradMode.NoGrad();
        var output = Forward(x, rng);
        return (Leaves.Select(l => output.Decodes[l]!).ToArray(), LeafMatrix(output.Terms.Reach, x.Dim(0)));
    }

    private Tensor Decode(int leaf, Tensor z)
    {
        var logits = _nodes[leaf].Decoder!.Forward(z);
        return Options.Likelihood == TreeVaeLikelihood.Bernoulli ? logits.Sigmoid() : logits;
    }

    private float[] LeafMatrix(Tensor?[] reach, int n)
    {
        var leaves = Leaves;
        var m = new float[(long)n * leaves.Length];
        for (int l = 0; l < leaves.Length; l++)
        {
            var r = reach[leaves[l]]!.Data;
            for (int i = 0; i < n; i++) m[(long)i * leaves.Length + l] = r[i];
        }
        return m;
    }

    /// <summary>
    /// A model of <paramref name="shape"/> carrying over this one's parameters and statistics: node j of the new model
    /// takes node <paramref name="oldNodeOf"/>[j]'s modules (−1: freshly initialised from <paramref name="rng"/>). A node
    /// that stopped being a leaf or a router drops its decoder or routers; the encoder and bottom-up chain carry over.
    /// </summary>
    public TreeVaeModel WithShape(TreeShape shape, int[] oldNodeOf, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(oldNodeOf);
        if (oldNodeOf.Length != shape.Nodes) throw new ArgumentException($"one entry per new node ({shape.Nodes})", nameof(oldNodeOf));
        var next = new TreeVaeModel(shape, Options, InputDim, rng, ImageShape);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var newPrefix = new Dictionary<int, int>();
        for (int j = 0; j < oldNodeOf.Length; j++)
            if (oldNodeOf[j] >= 0) newPrefix[oldNodeOf[j]] = j;
        var target = next.StateDict();
        foreach (var (key, value) in StateDict())
        {
            string mapped = key;
            if (key.StartsWith("node", StringComparison.Ordinal))
            {
                int dot = key.IndexOf('.');
                int old = int.Parse(key.AsSpan(4, dot - 4), System.Globalization.CultureInfo.InvariantCulture);
                if (!newPrefix.TryGetValue(old, out int j)) continue;
                mapped = $"node{j}{key[dot..]}";
            }
            if (target.ContainsKey(mapped)) state[mapped] = value;
        }
        next.LoadStateDict(state, strict: false);
        return next;
    }
}
