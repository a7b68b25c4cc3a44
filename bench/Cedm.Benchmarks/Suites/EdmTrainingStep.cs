using Cedm.Diffusion;
using Cedm.Diffusion.Networks;
using Cedm.Nn;
using Cedm.Nn.Optim;
using Cedm.Tensors;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// One EDM training step on fixed random images (EDMPrecond forward + EDM loss + backward + Adam), the unit the
/// `diffusion` suite times against torch and the `trainprofile` suite breaks down per op. Fixed seeds, so both
/// suites run the same step.
/// </summary>
internal sealed class EdmTrainingStep
{
    public EdmTrainingStep(SongUNetOptions options, int batch)
    {
        Net = new EdmPrecond(options, new Rng(1));
        Images = Tensor.Rand(new Rng(2), [batch, options.InChannels, options.Resolution, options.Resolution], -1f, 1f);
        Optimizer = new Adam(Net.Parameters(), new AdamOptions(Lr: 1e-4));
    }

    public EdmPrecond Net { get; }

    public Tensor Images { get; }

    public Adam Optimizer { get; }

    public EdmLoss Loss { get; } = new();

    public Rng Rng { get; } = new(3);

    public void Step()
    {
        Optimizer.ZeroGrad();
        TrainingPass.Run(() => Loss.Compute(Net, Images, null, Rng), Net.Parameters());
        Optimizer.Step();
    }
}
