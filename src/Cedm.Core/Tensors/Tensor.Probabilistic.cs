namespace Cedm.Tensors;

// Building blocks of TreeVAE (related-seeds A.2, A.3, A.5) composed from differentiable ops, so their gradients
// follow from the ops' own (checked against finite differences in ProbabilisticOpsTests).
public sealed partial class Tensor
{
    /// <summary>LeakyReLU: x for x ≥ 0, slope·x below (TreeVAE's transformations and routers use slope 0.3, spec A.5).</summary>
    public Tensor LeakyRelu(float slope)
    {
        var x = this;
        var y = Map((a, d) =>
        {
            for (int i = 0; i < a.Length; i++) d[i] = a[i] >= 0 ? a[i] : slope * a[i];
        });
        return y.Record("leaky_relu", x, g => x.AccumulateGrad(LocalGrad(g, x, y, (xv, _) => xv >= 0 ? 1f : slope), owned: true));
    }

    /// <summary>
    /// The composite reference of <see cref="BatchNorm"/> (the fused op is tested against it): batch normalisation with
    /// the batch's own statistics over every axis but 1 (channels): (x − mean)/√(var + eps)
    /// with the biased variance, as PyTorch's BatchNorm in training mode; then γ, β per channel when given.
    /// Returns the normalised tensor and the per-channel mean and biased variance (for running statistics).
    /// </summary>
    public static (Tensor Y, float[] Mean, float[] Var) BatchNormReference(Tensor x, Tensor? gamma, Tensor? beta, float eps = 1e-5f)
    {
        if (x.Rank < 2) throw new ArgumentException($"BatchNorm expects [N, C, …], got {Shapes.Format(x.Shape)}.");
        int c = x.Dim(1);
        var axes = Enumerable.Range(0, x.Rank).Where(a => a != 1).ToArray();
        var mean = x.Mean(axes, keepDim: true);
        var centred = x - mean;
        var variance = centred.Square().Mean(axes, keepDim: true);
        var y = centred / (variance + eps).Sqrt();
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[1] = c;
        if (gamma != null) y = y * gamma.Reshape(shape);
        if (beta != null) y = y + beta.Reshape(shape);
        return (y, mean.Data.ToArray(), variance.Data.ToArray());
    }

    /// <summary>
    /// KL(N(μ_q, σ²_q) ‖ N(μ_p, σ²_p)) element-wise from variances (TreeVAE's heads output variances through a softplus,
    /// spec A.1): ½(log σ²_p − log σ²_q + (σ²_q + (μ_q − μ_p)²)/σ²_p − 1). Sum over latent dimensions yourself.
    /// </summary>
    public static Tensor GaussianKlFromVariance(Tensor muQ, Tensor varQ, Tensor muP, Tensor varP)
    {
        var diff = muQ - muP;
        return (varP.Log() - varQ.Log() + (varQ + diff.Square()) / varP - 1f) * 0.5f;
    }

    /// <summary>
    /// KL(Bernoulli(q) ‖ Bernoulli(p)) element-wise with ε inside the logs (TreeVAE's decision KL, spec A.3):
    /// q·log((q + ε)/(p + ε)) + (1 − q)·log((1 − q + ε)/(1 − p + ε)).
    /// </summary>
    public static Tensor BernoulliKl(Tensor q, Tensor p, float eps = 1e-7f)
    {
        var notQ = 1f - q;
        return q * ((q + eps).Log() - (p + eps).Log()) + notQ * ((notQ + eps).Log() - ((1f - p) + eps).Log());
    }

    /// <summary>
    /// LadderVAE's precision-weighted merge of a bottom-up estimate (μ̂, σ̂²) with the top-down prior (μ_p, σ²_p)
    /// (spec A.2): σ²_q = 1/(1/(σ̂² + ε) + 1/(σ²_p + ε)), μ_q = σ²_q·(μ̂/(σ̂² + ε) + μ_p/(σ²_p + ε)).
    /// </summary>
    public static (Tensor Mu, Tensor Var) PrecisionMerge(Tensor muHat, Tensor varHat, Tensor muP, Tensor varP, float eps = 1e-7f)
    {
        var precHat = (varHat + eps).Pow(-1f);
        var precP = (varP + eps).Pow(-1f);
        var variance = (precHat + precP).Pow(-1f);
        return (variance * (muHat * precHat + muP * precP), variance);
    }

    /// <summary>Binary cross-entropy of probabilities <paramref name="p"/> against targets in [0, 1], summed over all
    /// but the batch axis ([N]); p is clamped to [ε, 1 − ε] (TreeVAE's Bernoulli decoder loss, spec A.1).</summary>
    public static Tensor BinaryCrossEntropySum(Tensor p, Tensor target, float eps = 1e-7f)
    {
        var pc = p.Clamp(eps, 1f - eps);
        var bce = -(target * pc.Log() + (1f - target) * (1f - pc).Log());
        return bce.Rank == 1 ? bce : bce.Sum(Enumerable.Range(1, bce.Rank - 1).ToArray());
    }
}
