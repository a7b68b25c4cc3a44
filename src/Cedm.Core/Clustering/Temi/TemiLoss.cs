using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tensors.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

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
            var mean = new float[k];
            for (int hh = 0; hh < h; hh++)
            {
                Array.Clear(mean);
                for (int r = 0; r < rows; r++) TensorPrimitives.Add(mean, pt.AsSpan((hh * rows + r) * k, k), mean);
                for (int c = 0; c < k; c++)
                    q[hh * k + c] = (float)(PriorMomentum * q[hh * k + c] + (1 - PriorMomentum) * mean[c] / rows);
            }

            // Step 2 — instance weight shared by all heads: w(x, x') = (1/H) Σ_h Σ_k p_t^h(k|x)·p_t^h(k|x').
            var wd = new float[b];
            for (int i = 0; i < b; i++)
            {
                float s = 0;
                for (int hh = 0; hh < h; hh++)
                    s += TensorPrimitives.Dot(pt.AsSpan((hh * rows + i) * k, k), pt.AsSpan((hh * rows + b + i) * k, k));
                wd[i] = s / h;
            }
            w = new Tensor(wd, 1, b);
        }

        // Step 3 — per-head symmetrised loss. In logs: log Σ_k (p_s·p_t)^β / q̃_k = logsumexp_k(β(log p_s + log p_t) − log q̃_k),
        // the same quantity computed without under/overflow.
        var logQ = Prior.Data.Select(v => MathF.Log(v)).ToArray();
        var perHead = UseComposite
            ? PairLossComposite(student, logPt, new Tensor(logQ, h, 1, k), w, b)
            : PairLoss(student, logPt.Data, logQ, w.Data, h, rows, k, (float)Beta, 1f / StudentTemperature);

        // Step 4 — total = mean over the H heads (each head gets 1/H of the gradient).
        var total = perHead.Mean();
        return new TemiLossResult(total, perHead.ToArray());
    }

    /// <summary>Runs step 3 as the composite of tensor ops (<see cref="PairLossComposite"/>), the reference the fused op is tested against.</summary>
    internal bool UseComposite { get; init; }

    /// <summary>Step 3 as tensor ops: ℓ^h = −½ [mean_B w·lse1 + mean_B w·lse2], [H].</summary>
    private Tensor PairLossComposite(Tensor student, Tensor logPt, Tensor logQ, Tensor w, int b)
    {
        var logPs = (student * (1f / StudentTemperature)).LogSoftmax(-1);   // log p_s^h(k|·), [H, 2B, K]
        float beta = (float)Beta;
        // Teacher of x with student of x' ...
        var lse1 = ((logPs.Slice(1, b, b) + logPt.Slice(1, 0, b)) * beta - logQ).LogSumExp(-1);   // [H, B]
        // ... and teacher of x' with student of x (same-view pairs are skipped).
        var lse2 = ((logPs.Slice(1, 0, b) + logPt.Slice(1, b, b)) * beta - logQ).LogSumExp(-1);
        return ((lse1 + lse2) * w).Sum(1) * (-0.5f / b);
    }

    /// <summary>
    /// Step 3 fused over the student's rows [H, 2B, K]: row r (partner r ± B) gives
    /// lse_r = logsumexp_k(β(log p_s(k|r) + log p_t(k|partner)) − log q̃_k), and ℓ^h = −(1/2B) Σ_r w_(r mod B)·lse_r.
    /// The gradient needs no second pass over the teacher: with a_r = softmax_k of the same argument,
    /// ∂lse_r/∂s_r = (β/τ_s)·(a_r − p_s(·|r)) (Σ_k a_r = 1), kept per row from the forward.
    /// </summary>
    private static Tensor PairLoss(Tensor student, float[] logPt, float[] logQ, float[] w, int h, int rows, int k, float beta, float invTemperature)
    {
        int b = rows / 2;
        var s = student.Data;
        bool grad = Tensor.WillRecord(student);
        var direction = grad ? new float[s.Length] : null;       // a_r − p_s(·|r)
        var lse = new float[h * rows];
        Parallelism.For(h * rows, (r0, nr) =>
        {
            var logPs = new float[k];
            var arg = new float[k];
            for (int idx = r0; idx < r0 + nr; idx++)
            {
                int head = idx / rows, r = idx % rows, partner = r < b ? r + b : r - b;
                var row = s.AsSpan(idx * k, k);
                TensorPrimitives.Multiply(row, invTemperature, logPs);
                float lseS = RowLogSumExp.Compute(logPs, arg);
                TensorPrimitives.Subtract(logPs, lseS, logPs);
                TensorPrimitives.Add(logPs, logPt.AsSpan((head * rows + partner) * k, k), arg);
                TensorPrimitives.Multiply(arg, beta, arg);
                TensorPrimitives.Subtract(arg, logQ.AsSpan(head * k, k), arg);
                var d = direction is null ? arg.AsSpan() : direction.AsSpan(idx * k, k);
                float value = RowLogSumExp.Compute(arg, d);
                lse[idx] = value;
                if (direction is null) continue;
                TensorPrimitives.Subtract(arg, value, d);
                TensorPrimitives.Exp(d, d);
                TensorPrimitives.Exp(logPs, logPs);
                TensorPrimitives.Subtract(d, logPs, d);
            }
        }, Math.Max(1, Parallelism.MinParallelElements / k));
        var perHead = new float[h];
        for (int head = 0; head < h; head++)
        {
            double sum = 0;
            for (int r = 0; r < rows; r++) sum += (double)w[r % b] * lse[head * rows + r];
            perHead[head] = (float)(-0.5 * sum / b);
        }
        var result = new Tensor(perHead, h);
        if (direction is null) return result;
        return result.Record("temi_pair_loss", student, g =>
        {
            var gs = new float[s.Length];
            Parallelism.For(h * rows, (r0, nr) =>
            {
                for (int idx = r0; idx < r0 + nr; idx++)
                {
                    int head = idx / rows, r = idx % rows;
                    float scale = g.Data[head] * (-0.5f / b) * w[r % b] * beta * invTemperature;
                    TensorPrimitives.Multiply(direction.AsSpan(idx * k, k), scale, gs.AsSpan(idx * k, k));
                }
            }, Math.Max(1, Parallelism.MinParallelElements / k));
            student.AccumulateGrad(new Tensor(gs, student.ShapeArray()), owned: true);
        });
    }
}
