namespace Cedm.Diffusion.Labels;

/// <summary>How a generated image's condition is chosen (spec §3 "p(c) at generation").</summary>
public enum ConditionDrawMode
{
    /// <summary>c ~ Categorical(counts / N): the training set's empirical p(c) (C-EDM with freq.pt; the default).</summary>
    Empirical,

    /// <summary>c ~ Uniform{0…K−1} (C-EDM without freq.pt).</summary>
    Uniform,

    /// <summary>Always the same condition.</summary>
    Fixed,
}

/// <summary>
/// Draws one (compacted) condition id per image from that image's own generator, right after its latent
/// (spec §3 draw order: z → label → churn noise). Every mode consumes exactly one uniform number, so a seed's
/// latent and churn noise are the same whatever the mode — as in EDM's generate.py, which draws a random class and
/// then overwrites it when a fixed class is requested: a fixed-cluster sample differs from the p(c) sample of the
/// same seed only in its condition.
/// </summary>
public sealed class ConditionDraw
{
    private readonly double[] _cumulative;
    private LabelMap? _rows;
    private int _node = -1;

    private ConditionDraw(ConditionDrawMode mode, int k, double[] cumulative, int fixedId)
    {
        Mode = mode; K = k; _cumulative = cumulative; FixedId = fixedId;
    }

    public ConditionDrawMode Mode { get; }

    /// <summary>Number of conditions (the model's label dimension K_used).</summary>
    public int K { get; }

    /// <summary>Width of a condition row: K (one-hot), or a path-conditioned run's node count (<see cref="WithRows"/>).</summary>
    public int Dim => _rows?.Dim ?? K;

    /// <summary>The same draw, its ids encoded as <paramref name="map"/>'s rows (path rows of a tree run) instead of one-hot.</summary>
    public ConditionDraw WithRows(LabelMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.K != K) throw new ArgumentException($"the map has {map.K} conditions, the draw {K}", nameof(map));
        return new ConditionDraw(Mode, K, _cumulative, FixedId) { _rows = map };
    }

    /// <summary>
    /// Every image conditioned on tree node <paramref name="node"/>'s partial path (root … node), the row a run trained
    /// with path truncation learned for the node's subtree (related-seeds D.3). The draw still takes its one uniform
    /// number, so seeds keep their images, and gives id −1: no single cluster made the image.
    /// </summary>
    public static ConditionDraw AtNode(LabelMap map, int node)
    {
        ArgumentNullException.ThrowIfNull(map);
        var tree = map.Tree ?? throw new ArgumentException("a node row needs a path-conditioned run's tree", nameof(map));
        if ((uint)node >= (uint)tree.Nodes) throw new ArgumentOutOfRangeException(nameof(node), node, $"the tree has nodes 0..{tree.Nodes - 1}");
        return new ConditionDraw(ConditionDrawMode.Fixed, map.K, [], -1) { _rows = map, _node = node };
    }

    /// <summary>The network's condition rows [ids.Length, <see cref="Dim"/>] for drawn ids.</summary>
    public Cedm.Tensors.Tensor Encode(ReadOnlySpan<int> ids)
    {
        if (_node < 0) return _rows?.Rows(ids) ?? Nn.OneHot.FromIds(ids, K);
        int dim = _rows!.Dim;
        var data = new float[ids.Length * dim];
        for (int i = 0; i < ids.Length; i++) _rows.Tree!.WriteRow(_node, data.AsSpan(i * dim, dim));
        return new Cedm.Tensors.Tensor(data, ids.Length, dim);
    }

    /// <summary>The condition of <see cref="ConditionDrawMode.Fixed"/>, else −1.</summary>
    public int FixedId { get; }

    /// <summary>p(c) ∝ <paramref name="counts"/> (training images per compacted condition).</summary>
    public static ConditionDraw Empirical(IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Count == 0) throw new ArgumentException("p(c) needs at least one condition.", nameof(counts));
        if (counts.Any(c => c < 0)) throw new ArgumentException("Condition counts must be ≥ 0.", nameof(counts));
        double total = counts.Sum(c => (double)c);
        if (total <= 0) throw new ArgumentException("Condition counts sum to 0.", nameof(counts));
        var cumulative = new double[counts.Count];
        double run = 0;
        for (int i = 0; i < counts.Count; i++) cumulative[i] = (run += counts[i]) / total;
        return new ConditionDraw(ConditionDrawMode.Empirical, counts.Count, cumulative, -1);
    }

    public static ConditionDraw Uniform(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        return new ConditionDraw(ConditionDrawMode.Uniform, k, [], -1);
    }

    public static ConditionDraw Fixed(int id, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if ((uint)id >= (uint)k) throw new ArgumentOutOfRangeException(nameof(id), id, $"Condition must be in [0, {k}).");
        return new ConditionDraw(ConditionDrawMode.Fixed, k, [], id);
    }

    /// <summary>One condition id in [0, K) from <paramref name="rng"/> (always one uniform draw).</summary>
    public int Draw(Cedm.Tensors.Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        double u = rng.NextDouble();
        switch (Mode)
        {
            case ConditionDrawMode.Fixed:
                return FixedId;
            case ConditionDrawMode.Uniform:
                return Math.Min((int)(u * K), K - 1);
            default:
                // First c with cumulative[c] > u (binary search); an empty condition never qualifies because its
                // cumulative value equals its predecessor's.
                int lo = 0, hi = K - 1;
                while (lo < hi)
                {
                    int mid = (lo + hi) >> 1;
                    if (_cumulative[mid] > u) hi = mid; else lo = mid + 1;
                }
                return lo;
        }
    }
}
