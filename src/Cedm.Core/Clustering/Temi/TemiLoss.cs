using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Clustering.Temi;

/// <summary>The outcome of one <see cref="TemiLoss.Forward"/>: the differentiable total and each head's value.</summary>
public sealed record TemiLossResult(Tensor Loss, float[] PerHead);

/// <summary>
/// TEMI's β-weighted PMI loss over H heads (spec §4.4), holding the cluster prior q̃ [H, K] it updates every call.
/// Inputs are the student and teacher logits [H, 2B, K] of the two views stacked as [X1; X2] (rows 0..B−1 are the
/// items x, rows B..2B−1 their neighbours x'). Only the student logits receive gradients.
/// </summary>
public sealed class TemiLoss
{
    public TemiLoss(int heads, int k, double beta = 0.6, float studentTemperature = 0.1f, float teacherTemperature = 0.1f, double priorMomentum = 0.9)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        Heads = heads; K = k; Beta = beta;
        StudentTemperature = studentTemperature; TeacherTemperature = teacherTemperature; PriorMomentum = priorMomentum;
        // q̃^h starts uniform, 1/K (spec §4.4 step 1).
        Prior = Tensor.Full(1f / k, heads, k);
    }

    public int Heads { get; }

    public int K { get; }

    public double Beta { get; }

    public float StudentTemperature { get; }

    public float TeacherTemperature { get; }

    public double PriorMomentum { get; }

    /// <summary>The cluster prior q̃ [H, K] (an EMA of the teacher's mean probabilities); tests may overwrite it.</summary>
    public Tensor Prior { get; }

    public TemiLossResult Forward(Tensor student, Tensor teacher)
    {
        if (student.Rank != 3 || student.Dim(0) != Heads || student.Dim(2) != K || student.Dim(1) % 2 != 0)
            throw new ArgumentException($"Student logits must be [H={Heads}, 2B, K={K}], got {Shapes.Format(student.Shape)}.");
        if (!Shapes.Equal(student.Shape, teacher.Shape))
            throw new ArgumentException($"Teacher logits {Shapes.Format(teacher.Shape)} differ from student logits {Shapes.Format(student.Shape)}.");
        int h = Heads, k = K, rows = student.Dim(1), b = rows / 2;

        Tensor logPt, w;
        using (GradMode.NoGrad())
        {
            var scaled = teacher.Detach() * (1f / TeacherTemperature);
            logPt = scaled.LogSoftmax(-1);                       // log p_t^h(k|x), [H, 2B, K]
            var pt = logPt.Exp().Data;

            // Step 1 — cluster-prior EMA, before use: q̃^h ← m·q̃^h + (1 − m)·mean over the 2B rows of p_t^h.
            var q = Prior.Data;
            for (int hh = 0; hh < h; hh++)
            {
                var mean = new double[k];
                for (int r = 0; r < rows; r++)
                {
                    int o = (hh * rows + r) * k;
                    for (int c = 0; c < k; c++) mean[c] += pt[o + c];
                }
                for (int c = 0; c < k; c++)
                    q[hh * k + c] = (float)(PriorMomentum * q[hh * k + c] + (1 - PriorMomentum) * mean[c] / rows);
            }

            // Step 2 — instance weight shared by all heads: w(x, x') = (1/H) Σ_h Σ_k p_t^h(k|x)·p_t^h(k|x').
            var wd = new float[b];
            for (int i = 0; i < b; i++)
            {
                double s = 0;
                for (int hh = 0; hh < h; hh++)
                {
                    int o1 = (hh * rows + i) * k, o2 = (hh * rows + b + i) * k;
                    for (int c = 0; c < k; c++) s += (double)pt[o1 + c] * pt[o2 + c];
                }
                wd[i] = (float)(s / h);
            }
            w = new Tensor(wd, 1, b);
        }

        // Step 3 — per-head symmetrised loss. In logs: log Σ_k (p_s·p_t)^β / q̃_k = logsumexp_k(β(log p_s + log p_t) − log q̃_k),
        // the same quantity computed without under/overflow.
        var logQ = new Tensor(Prior.Data.Select(v => MathF.Log(v)).ToArray(), h, 1, k);
        var logPs = (student * (1f / StudentTemperature)).LogSoftmax(-1);   // log p_s^h(k|·), [H, 2B, K]
        float beta = (float)Beta;
        // Teacher of x with student of x' ...
        var lse1 = ((logPs.Slice(1, b, b) + logPt.Slice(1, 0, b)) * beta - logQ).LogSumExp(-1);   // [H, B]
        // ... and teacher of x' with student of x (same-view pairs are skipped).
        var lse2 = ((logPs.Slice(1, 0, b) + logPt.Slice(1, b, b)) * beta - logQ).LogSumExp(-1);
        // ℓ^h = ½ [mean_B w·(−lse1) + mean_B w·(−lse2)].
        var perHead = ((lse1 + lse2) * w).Sum(1) * (-0.5f / b);                                   // [H]

        // Step 4 — total = mean over the H heads (each head gets 1/H of the gradient).
        var total = perHead.Mean();
        return new TemiLossResult(total, perHead.ToArray());
    }
}
