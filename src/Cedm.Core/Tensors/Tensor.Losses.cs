using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Losses and normalisations that are either fused for speed/stability or composed from primitives.
public sealed partial class Tensor
{
    /// <summary>Mean squared error over all elements.</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target)
    {
        RequireSameShape(prediction, target, "MseLoss");
        return (prediction - target).Square().Mean();
    }

    /// <summary>
    /// Cross-entropy of logits [N, K] against integer class targets, averaged over N:
    /// mean_i (logsumexp(x_i) − x_i[t_i]). Fused through log-softmax for stability.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, int[] targets)
    {
        logits.RequireRank(2, "CrossEntropy logits");
        int n = logits._shape[0], k = logits._shape[1];
        if (targets.Length != n) throw new ArgumentException($"CrossEntropy: {targets.Length} targets for {n} rows of logits.");
        var oneHot = Zeros(n, k);
        for (int i = 0; i < n; i++)
        {
            if ((uint)targets[i] >= (uint)k) throw new ArgumentOutOfRangeException(nameof(targets), $"Target {targets[i]} at row {i} is outside [0, {k}).");
            oneHot._data[i * k + targets[i]] = 1f;
        }
        return CrossEntropy(logits, oneHot);
    }

    /// <summary>Cross-entropy with soft targets [N, K] (rows sum to 1): mean_i −Σ_k t_ik log softmax(x_i)_k.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targetProbabilities)
    {
        RequireSameShape(logits, targetProbabilities, "CrossEntropy");
        int n = logits._shape[0];
        return (logits.LogSoftmax(-1) * targetProbabilities).Sum().MulScalar(-1f / n);
    }

    /// <summary>
    /// x / max(‖x‖₂, eps) along <paramref name="axis"/> (PyTorch's F.normalize convention).
    /// Backward: (g − y·⟨g, y⟩) / ‖x‖ where the norm was above eps, g / eps otherwise.
    /// </summary>
    public Tensor L2Normalize(int axis = -1, float eps = 1e-12f)
    {
        var x = this;
        axis = Shapes.Axis(axis, Rank);
        var (outer, n, inner) = Shapes.AroundAxis(_shape, axis);
        var norms = new float[outer * inner];
        var y = Uninitialized(_shape);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * n * inner + i;
                double s = 0;
                for (int j = 0; j < n; j++) { float v = _data[b + j * inner]; s += v * v; }
                float d = MathF.Max((float)Math.Sqrt(s), eps);
                norms[o * inner + i] = d;
                for (int j = 0; j < n; j++) y._data[b + j * inner] = _data[b + j * inner] / d;
            }
        return y.Record("l2_normalize", x, g =>
        {
            var gx = Uninitialized(x._shape);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int b = o * n * inner + i;
                    float d = norms[o * inner + i];
                    bool clamped = d <= eps;
                    double dot = 0;
                    if (!clamped) for (int j = 0; j < n; j++) dot += g._data[b + j * inner] * y._data[b + j * inner];
                    for (int j = 0; j < n; j++)
                        gx._data[b + j * inner] = (g._data[b + j * inner] - (float)dot * y._data[b + j * inner]) / d;
                }
            x.AccumulateGrad(gx, owned: true);
        });
    }

    /// <summary>
    /// Inverted dropout: in training, zero each element with probability <paramref name="p"/> and scale the
    /// survivors by 1/(1−p) so the expectation is unchanged; identity otherwise. The mask comes from <paramref name="rng"/>.
    /// </summary>
    public Tensor Dropout(float p, Rng rng, bool training)
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout probability {p} must be in [0, 1).");
        if (!training || p == 0) return this;
        // One fused op instead of x * mask. The mask is a function of one 64-bit key drawn here and the element
        // index (DropoutMask), so it is drawn in parallel and recomputed in the backward pass instead of stored.
        var x = this;
        float scale = 1f / (1f - p);
        ulong key = rng.NextUInt64();
        uint threshold = DropoutMask.Threshold(p);
        var y = Uninitialized(_shape);
        DropoutMask.Apply(key, threshold, scale, _data, y._data);
        return y.Record("dropout", x, g =>
        {
            var gx = Uninitialized(x._shape);
            DropoutMask.Apply(key, threshold, scale, g._data, gx._data);
            x.AccumulateGrad(gx, owned: true);
        });
    }

    /// <summary>
    /// KL(N(μ₁, e^{logvar₁}) ‖ N(μ₂, e^{logvar₂})) element-wise (diagonal Gaussians):
    /// ½ (logvar₂ − logvar₁ + (e^{logvar₁} + (μ₁ − μ₂)²) / e^{logvar₂} − 1). Sum it over latent dims yourself.
    /// </summary>
    public static Tensor GaussianKl(Tensor mu1, Tensor logVar1, Tensor mu2, Tensor logVar2)
    {
        var diff = mu1 - mu2;
        var ratio = (logVar1.Exp() + diff.Square()) / logVar2.Exp();
        return (logVar2 - logVar1 + ratio - 1f) * 0.5f;
    }
}
