using Cedm.Tensors;

namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// The training / guidance objective of a <see cref="NoisyClassifier"/> (docs/feature-conditioning.md): NGMG on its
/// feature-space output against the fitted mixture (<see cref="MixtureObjective.Ngmg"/>), or softmax cross-entropy on
/// its K logits (the BCE/CE baseline). <see cref="Loss"/> returns the mean loss over rows as a tensor whose gradient
/// reaches the classifier: for NGMG the closed-form ∂L/∂e enters as a constant weight, Σ_i ⟨e_i, g_i⟩ / N, whose
/// gradient in θ equals that of the NGMG loss.
/// </summary>
public sealed class AuxiliaryObjective
{
    private AuxiliaryObjective(string kind, MixtureObjective? mixture, int k)
    {
        Kind = kind; Mixture = mixture; K = k;
    }

    public const string NgmgKind = "ngmg", CrossEntropyKind = "ce";

    /// <summary>"ngmg" or "ce".</summary>
    public string Kind { get; }

    public MixtureObjective? Mixture { get; }

    /// <summary>Number of classes (components).</summary>
    public int K { get; }

    /// <summary>Classifier outputs needed: d for NGMG, K for CE.</summary>
    public int Outputs => Mixture?.Mixture.Dimension ?? K;

    public static AuxiliaryObjective Ngmg(FeatureMixture mixture) => new(NgmgKind, new MixtureObjective(mixture), mixture.K);

    public static AuxiliaryObjective CrossEntropy(int k) => new(CrossEntropyKind, null, k);

    /// <summary>Mean loss of outputs [N, Outputs] for targets [N] (component ids), with a gradient to the outputs; also the value.</summary>
    public (Tensor Loss, double Value) Loss(Tensor outputs, ReadOnlySpan<int> targets)
    {
        int n = outputs.Dim(0), w = outputs.Dim(1);
        if (w != Outputs) throw new ArgumentException($"expected {Outputs} outputs per row, got {w}");
        if (targets.Length != n) throw new ArgumentException($"{targets.Length} targets for {n} rows");
        var g = new float[n * w];
        double total = 0;
        var e = new double[w];
        var grad = new double[w];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < w; j++) e[j] = outputs.Data[i * w + j];
            if (Mixture != null) total += Mixture.Ngmg(e, [targets[i]], grad);
            else
            {
                // Softmax CE: L = logsumexp(e) − e_y; ∂L/∂e = softmax(e) − onehot(y).
                double max = e.Max(), s = 0;
                for (int j = 0; j < w; j++) s += Math.Exp(e[j] - max);
                double lse = max + Math.Log(s);
                total += lse - e[targets[i]];
                for (int j = 0; j < w; j++) grad[j] = Math.Exp(e[j] - lse) - (j == targets[i] ? 1 : 0);
            }
            for (int j = 0; j < w; j++) g[i * w + j] = (float)(grad[j] / n);
        }
        return ((outputs * new Tensor(g, n, w)).Sum(), total / n);
    }

    /// <summary>p(y | output) under this objective: the mixture posterior of e (NGMG) or the softmax (CE).</summary>
    public int Predict(ReadOnlySpan<float> output)
    {
        if (Mixture != null)
        {
            var e = new double[output.Length];
            for (int j = 0; j < e.Length; j++) e[j] = output[j];
            return Mixture.MostLikely(e).Component;
        }
        int best = 0;
        for (int j = 1; j < output.Length; j++) if (output[j] > output[best]) best = j;
        return best;
    }
}
