using Cedm.Nn.Optim;
using Cedm.Tensors;

namespace Cedm.Clustering.Temi;

/// <summary>What one TEMI training run produced.</summary>
/// <param name="Teacher">The teacher heads (the final clustering uses <see cref="BestHead"/> of these, spec §4.6).</param>
/// <param name="BestHead">argmin over heads of the last epoch's mean per-head loss.</param>
/// <param name="EpochHeadLosses">Per epoch, each head's mean loss over that epoch's iterations.</param>
/// <param name="EpochSeconds">Wall time of each epoch.</param>
/// <param name="TeacherMomentum">The teacher EMA momentum the run used (<see cref="TemiOptions.EffectiveTeacherMomentum"/>).</param>
public sealed record TemiTrainingResult(TemiHeads Teacher, TemiHeads Student, int BestHead, float[][] EpochHeadLosses, double[] EpochSeconds, double TeacherMomentum = 0.996);

/// <summary>
/// Trains TEMI's student/teacher heads on precomputed features (spec §4.2–§4.6): every epoch a shuffled pass
/// with drop_last in batches of B items, each paired with a partner drawn uniformly from its k nearest neighbours;
/// AdamW with a linear warm-up to lr·B/256 (B the configured batch, or N when smaller) then cosine to min_lr·B/256; last layer frozen in epoch 0; teacher EMA
/// after every step (momentum scaled for short runs, <see cref="TemiOptions.MomentumReferenceSteps"/>); best head chosen by the
/// epoch-mean per-head loss.
/// </summary>
public sealed class TemiTrainer(TemiOptions options)
{
    public TemiOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <param name="features">[N, D], the raw (un-normalised) embeddings (spec §4.1: head input is not normalised).</param>
    /// <param name="neighbours">[N, ≥k] neighbour indices, e.g. from <see cref="Knn.CosineTopK(Tensor, int)"/>; the first k are used.</param>
    public TemiTrainingResult Train(Tensor features, int[,] neighbours, int k, Rng rng, IProgress<double>? progress = null)
    {
        Options.Validate();
        if (features.Rank != 2) throw new ArgumentException($"Features must be [N, D], got {Shapes.Format(features.Shape)}.");
        int n = features.Dim(0), d = features.Dim(1);
        if (n < 2) throw new ArgumentException($"TEMI needs at least 2 feature rows, got {n}.");
        if (neighbours.GetLength(0) != n) throw new ArgumentException($"{neighbours.GetLength(0)} neighbour rows for {n} features.");
        int knn = Math.Min(Options.Neighbours, neighbours.GetLength(1));
        int batch = Math.Min(Options.BatchSize, Math.Max(2, n / Options.MinStepsPerEpoch));
        int iters = n / batch;                          // drop_last
        int epochs = Options.Epochs;
        double momentum = Options.EffectiveTeacherMomentum((long)epochs * iters);

        var student = new TemiHeads(d, k, Options.Heads, Options.Hidden, Options.Bottleneck, rng);
        // The teacher's own init draws are overwritten by the student's state (a fixed Rng keeps rng's stream unchanged).
        var teacher = new TemiHeads(d, k, Options.Heads, Options.Hidden, Options.Bottleneck, new Rng(0));
        // lr·B/256 with the configured B (spec §4.5), not the batch the small-data guard shrank it to: scaling by the
        // shrunk batch cut the lr 13× on 1 200 rows (B = 75), and TEMI then stopped in split/merged blobs (TemiOptions).
        double lrScale = Math.Min(Options.BatchSize, n) / 256.0;
        var optimizer = new AdamW(ParamGroups.DecayAndNoDecay(student.NamedParameters(), Options.WeightDecay),
            new AdamOptions(Lr: Options.Lr * lrScale, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8));
        var loss = new TemiLoss(Options.Heads, k, Options.Beta, Options.StudentTemperature, Options.TeacherTemperature, Options.PriorMomentum);
        var step = new TemiStep(student, teacher, optimizer, loss);

        var x = features.Data;
        var pairs = new float[2 * batch * d];
        var perm = Enumerable.Range(0, n).ToArray();
        var epochLosses = new float[epochs][];
        var epochSeconds = new double[epochs];
        long iteration = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Shuffle(perm, rng);
            var sums = new double[Options.Heads];
            for (int it = 0; it < iters; it++, iteration++)
            {
                // Spec §4.2: X1 = [e_i], X2 = [e_j] with j uniform among the k NN of i (fresh draw each time).
                for (int r = 0; r < batch; r++)
                {
                    int i = perm[it * batch + r], j = neighbours[i, rng.NextInt(knn)];
                    Array.Copy(x, (long)i * d, pairs, (long)r * d, d);
                    Array.Copy(x, (long)j * d, pairs, (long)(batch + r) * d, d);
                }
                var input = new Tensor(pairs, 2 * batch, d);
                double lr = LrSchedule.WarmupCosine(iteration, Options.Lr * lrScale, Options.MinLr * lrScale, epochs, iters, Options.WarmupEpochs);
                var perHead = step.Run(input, lr, epoch < Options.FreezeLastLayerEpochs, momentum);
                for (int h = 0; h < sums.Length; h++) sums[h] += perHead[h];
                progress?.Report((double)(iteration + 1) / ((long)epochs * iters));
            }
            epochLosses[epoch] = sums.Select(s => (float)(s / iters)).ToArray();
            epochSeconds[epoch] = clock.Elapsed.TotalSeconds;
        }
        // Spec §4.6: best head = argmin of the (last) epoch's mean per-head loss.
        var last = epochLosses[^1];
        int best = 0;
        for (int h = 1; h < last.Length; h++) if (last[h] < last[best]) best = h;
        return new TemiTrainingResult(teacher, student, best, epochLosses, epochSeconds, momentum);
    }

    /// <summary>Fisher–Yates with the run's Rng.</summary>
    private static void Shuffle(int[] a, Rng rng)
    {
        for (int i = a.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
    }
}
