namespace Cedm.Nn.Optim;

/// <summary>
/// A plain-momentum average, TEMI's teacher update after every optimiser step (spec §4.5):
/// θ_t ← m·θ_t + (1 − m)·θ_s (m = 0.996 in the recipe). The teacher is a separate, frozen module of the same
/// architecture; start it as an exact copy with <c>teacher.LoadStateDict(student.StateDict())</c>.
/// </summary>
public sealed class MomentumEma
{
    private readonly (Cedm.Tensors.Tensor Source, Cedm.Tensors.Tensor Average)[] _pairs;

    public MomentumEma(Module student, Module teacher)
    {
        _pairs = ParameterAverage.Pair(student, teacher);
        teacher.SetRequiresGrad(false);
    }

    public void Update(double momentum)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1].");
        ParameterAverage.Update(_pairs, momentum);
    }
}
