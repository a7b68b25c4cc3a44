using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Cedm.Data;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// A <see cref="NoisyClassifier"/> on held-out images noised at each σ: its accuracy and the size of the gradient
/// guidance would use, ‖∇_x L(c(x, σ), y)‖₂ per image (docs/feature-conditioning.md). The mean gradient norm is also
/// given separately over the images flagged as lying where the classes overlap and over the others: the seed's
/// claim for NGMG is that its gradient stays informative there, where a saturated cross-entropy fades.
/// </summary>
public sealed record AuxiliaryEvaluation(double[] Sigmas, double[] Accuracy, double[] GradNorm, double[] GradNormOverlap, double[] GradNormSeparated, int Count, int Overlap)
{
    private const int Batch = 64;

    /// <summary>
    /// Evaluates <paramref name="net"/> on every image of <paramref name="data"/> (targets per image) at each σ, with
    /// fresh noise from <paramref name="seed"/>; <paramref name="overlap"/> flags images in the overlap set (null: none).
    /// </summary>
    public static AuxiliaryEvaluation Run(NoisyClassifier net, AuxiliaryObjective objective, ImageDataset data, int[] targets, bool[]? overlap, IReadOnlyList<double> sigmas, long seed)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(sigmas);
        if (targets.Length != data.Count) throw new ArgumentException($"{targets.Length} targets for {data.Count} images", nameof(targets));
        if (overlap != null && overlap.Length != data.Count) throw new ArgumentException($"{overlap.Length} overlap flags for {data.Count} images", nameof(overlap));
        var rng = new Rng(seed);
        int size = data.ImageSize, s = sigmas.Count, inOverlap = overlap?.Count(o => o) ?? 0;
        double[] accuracy = new double[s], all = new double[s], over = new double[s], separated = new double[s];
        for (int k = 0; k < s; k++)
        {
            int correct = 0;
            double sumAll = 0, sumOver = 0, sumSeparated = 0;
            for (int start = 0; start < data.Count; start += Batch)
            {
                int b = Math.Min(Batch, data.Count - start);
                var x = new float[b * size];
                data.ToTrainingRange(start, b, x);
                for (int j = 0; j < x.Length; j++) x[j] += (float)(sigmas[k] * rng.NextNormal());
                var (grad, outputs) = InputGradient(net, objective, new Tensor(x, b, data.Channels, data.Height, data.Width), Tensor.Full((float)sigmas[k], b), targets.AsSpan(start, b));
                for (int i = 0; i < b; i++)
                {
                    if (objective.Predict(outputs.AsSpan(i * objective.Outputs, objective.Outputs)) == targets[start + i]) correct++;
                    double norm = Math.Sqrt(TensorPrimitives.Dot<float>(grad.AsSpan(i * size, size), grad.AsSpan(i * size, size)));
                    sumAll += norm;
                    if (overlap?[start + i] == true) sumOver += norm; else sumSeparated += norm;
                }
            }
            accuracy[k] = (double)correct / data.Count;
            all[k] = sumAll / data.Count;
            over[k] = inOverlap > 0 ? sumOver / inOverlap : double.NaN;
            separated[k] = data.Count > inOverlap ? sumSeparated / (data.Count - inOverlap) : double.NaN;
        }
        return new AuxiliaryEvaluation(sigmas.ToArray(), accuracy, all, over, separated, data.Count, inOverlap);
    }

    /// <summary>
    /// ∇_x of the summed objective Σ_i L(c(x_i, σ_i), y_i) (each image's own gradient: the classifier treats images
    /// independently) and the classifier's outputs [N, Outputs]; gradients are enabled for this pass only, so it runs
    /// inside a sampler's no-grad scope.
    /// </summary>
    public static (float[] Gradient, float[] Outputs) InputGradient(NoisyClassifier classifier, AuxiliaryObjective objective, Tensor x, Tensor sigma, ReadOnlySpan<int> targets)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Dim(0);
        using var _ = GradMode.EnableGrad();
        var xg = new Tensor(x.Data.ToArray(), x.ShapeArray()).RequireGrad();
        var outputs = classifier.Forward(xg, sigma);
        var (loss, _) = objective.Loss(outputs, targets);
        (loss * n).Backward();
        var grad = xg.Grad!.Data.ToArray();
        foreach (var p in classifier.Parameters()) p.Grad = null;
        return (grad, outputs.Data.ToArray());
    }
}
