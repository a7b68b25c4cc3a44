using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// Batch normalisation over [N, C] or [N, C, H, W] as in PyTorch (TreeVAE's transformations, routers and CNN blocks,
/// related-seeds A.5): in training mode the batch's statistics (biased variance) normalise, and running statistics are
/// updated with momentum 0.1 (unbiased variance, as PyTorch); in evaluation mode the running statistics normalise.
/// Parameters "weight" (γ, 1) and "bias" (β, 0); buffers "running_mean", "running_var".
/// </summary>
public sealed class BatchNorm : Layer
{
    public BatchNorm(int channels, float eps = 1e-5f, float momentum = 0.1f, bool affine = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Channels = channels; Eps = eps; Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(channels));
            Bias = RegisterParameter("bias", Tensor.Zeros(channels));
        }
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(channels));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(channels));
    }

    public int Channels { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank < 2 || x.Dim(1) != Channels)
            throw new ArgumentException($"BatchNorm({Channels}) expects [N, {Channels}, …], got {Shapes.Format(x.Shape)}.");
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[1] = Channels;
        if (!IsTraining)
        {
            // γ and β stay differentiable even in evaluation mode (a frozen tree still passes gradients to its input).
            var norm = (x - new Tensor(RunningMean.Data.ToArray(), shape)) * new Tensor(RunningVar.Data.Select(v => 1f / MathF.Sqrt(v + Eps)).ToArray(), shape);
            if (Weight != null) norm = norm * Weight.Reshape(shape);
            if (Bias != null) norm = norm + Bias.Reshape(shape);
            return norm;
        }
        long count = x.Size / Channels;
        if (count < 2) throw new ArgumentException("BatchNorm in training mode needs more than one value per channel.");
        var (y, mean, variance) = Tensor.BatchNorm(x, Weight, Bias, Eps);
        float unbias = count / (float)(count - 1);
        for (int c = 0; c < Channels; c++)
        {
            RunningMean.Data[c] = (1 - Momentum) * RunningMean.Data[c] + Momentum * mean[c];
            RunningVar.Data[c] = (1 - Momentum) * RunningVar.Data[c] + Momentum * variance[c] * unbias;
        }
        return y;
    }
}
