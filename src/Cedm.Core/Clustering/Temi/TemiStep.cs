using Cedm.Nn.Optim;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Clustering.Temi;

/// <summary>
/// One TEMI optimisation step (spec §4.4–§4.5) on a batch of pairs [X1; X2]: the teacher's logits without gradients,
/// the student's loss, backward (the last layer's gradients dropped while it is frozen), AdamW, then the teacher EMA.
/// <see cref="TemiTrainer"/> runs it every iteration; the bench profiles it alone.
/// </summary>
internal sealed class TemiStep
{
    private readonly MomentumEma _ema;

    public TemiStep(TemiHeads student, TemiHeads teacher, AdamW optimizer, TemiLoss loss)
    {
        Student = student; Teacher = teacher; Optimizer = optimizer; Loss = loss;
        // The teacher starts as an exact copy of the student (spec §4.5) and is never trained directly.
        teacher.LoadStateDict(student.StateDict());
        _ema = new MomentumEma(student, teacher);
        teacher.SetTraining(false);
    }

    public TemiHeads Student { get; }

    public TemiHeads Teacher { get; }

    public AdamW Optimizer { get; }

    public TemiLoss Loss { get; }

    /// <summary>One step at learning rate <paramref name="lr"/>; returns each head's loss.</summary>
    public float[] Run(Tensor pairs, double lr, bool freezeLastLayer, double momentum)
    {
        Optimizer.SetLr(lr);
        Optimizer.ZeroGrad();
        TemiLossResult result;
        // The step's temporaries are recycled (TensorArena); only the gradients outlive it.
        using (var arena = TensorArena.Begin())
        {
            Tensor teacherLogits;
            using (GradMode.NoGrad()) teacherLogits = Teacher.Forward(pairs);
            result = Loss.Forward(Student.Forward(pairs), teacherLogits);
            result.Loss.Backward();
            foreach (var p in Student.Parameters()) if (p.Grad != null) arena.Keep(p.Grad);
        }
        if (freezeLastLayer) Student.CancelLastLayerGradients();
        Optimizer.Step();
        _ema.Update(momentum);
        return result.PerHead;
    }
}
