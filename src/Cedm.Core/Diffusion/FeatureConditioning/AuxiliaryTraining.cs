using Cedm.Data;
using Cedm.Nn.Optim;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>Settings of <see cref="AuxiliaryTraining"/>: Adam, EDM's log-normal σ (P_mean −1.2, P_std 1.2, spec §1.3).</summary>
public sealed record AuxiliaryTrainingOptions
{
    public int Steps { get; init; } = 200;
    public int Batch { get; init; } = 32;
    public double Lr { get; init; } = 1e-3;
    public int Width { get; init; } = 16;
    public long Seed { get; init; }
}

/// <summary>
/// Trains a <see cref="NoisyClassifier"/> on noisy training images x = y + σn, σ ~ EDM's training distribution, with
/// an <see cref="AuxiliaryObjective"/> (NGMG or CE) against each image's component, and measures its accuracy on noisy
/// images at given σ (the "accuracy on noisy test images over σ").
/// </summary>
public static class AuxiliaryTraining
{
    public static (NoisyClassifier Classifier, double[] Losses) Train(ImageDataset data, int[] targets, AuxiliaryObjective objective, AuxiliaryTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(options);
        if (targets.Length != data.Count) throw new ArgumentException($"{targets.Length} targets for {data.Count} images", nameof(targets));
        var rng = new Rng(options.Seed);
        var net = new NoisyClassifier(data.Channels, objective.Outputs, rng, options.Width);
        var adam = new Adam(net.Parameters(), new AdamOptions(Lr: options.Lr));
        var losses = new double[options.Steps];
        int b = options.Batch, size = data.ImageSize;
        for (int step = 0; step < options.Steps; step++)
        {
            var x = new float[b * size];
            var sigma = new float[b];
            var t = new int[b];
            for (int i = 0; i < b; i++)
            {
                int index = (int)(rng.NextDouble() * data.Count) % data.Count;
                t[i] = targets[index];
                data.ToTrainingRange(index, 1, x.AsSpan(i * size, size));
                sigma[i] = (float)Math.Exp(rng.NextNormal() * 1.2 - 1.2);
                for (int j = 0; j < size; j++) x[i * size + j] += sigma[i] * (float)rng.NextNormal();
            }
            adam.ZeroGrad();
            var (loss, value) = objective.Loss(net.Forward(new Tensor(x, b, data.Channels, data.Height, data.Width), new Tensor(sigma, b)), t);
            loss.Backward();
            adam.Step();
            losses[step] = value;
        }
        return (net, losses);
    }

    /// <summary>Accuracy of <paramref name="net"/> on every image of <paramref name="data"/> noised at each σ (fresh noise from <paramref name="seed"/>).</summary>
    public static double[] Accuracy(NoisyClassifier net, AuxiliaryObjective objective, ImageDataset data, int[] targets, IReadOnlyList<double> sigmas, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(net);
        var rng = new Rng(seed);
        int size = data.ImageSize;
        var result = new double[sigmas.Count];
        using var _ = GradMode.NoGrad();
        for (int s = 0; s < sigmas.Count; s++)
        {
            int correct = 0;
            for (int start = 0; start < data.Count; start += 64)
            {
                int b = Math.Min(64, data.Count - start);
                var x = new float[b * size];
                data.ToTrainingRange(start, b, x);
                for (int j = 0; j < x.Length; j++) x[j] += (float)(sigmas[s] * rng.NextNormal());
                var o = net.Forward(new Tensor(x, b, data.Channels, data.Height, data.Width), Tensor.Full((float)sigmas[s], b));
                for (int i = 0; i < b; i++)
                    if (objective.Predict(o.Data.AsSpan(i * objective.Outputs, objective.Outputs)) == targets[start + i]) correct++;
            }
            result[s] = (double)correct / data.Count;
        }
        return result;
    }
}
