using System.Diagnostics;
using Cedm.Data;
using Cedm.Nn.Optim;
using Cedm.Tensors;

namespace Cedm.Features.Ssl;

/// <summary>What an SSL training run did.</summary>
public sealed record SslTrainingReport(int Steps, long ImagesSeen, double FinalLoss, double Seconds, bool StoppedByTime);

/// <summary>
/// SimCLR training of an <see cref="SslEncoder"/> on unlabelled images (see <see cref="SslOptions"/>). Batches are
/// drawn epoch-wise without replacement; both views of every image come from <see cref="SslAugmentation"/>.
/// With <see cref="SslOptions.MaxSteps"/> and a budget that is not reached the run is deterministic given the seed
/// (and thread count); a run cut by the clock stops at a load-dependent step.
/// </summary>
public static class SslTrainer
{
    public static (SslEncoder Encoder, SslTrainingReport Report) Train(ImageDataset images, SslOptions options,
        IProgress<double>? progress = null, Action<string>? log = null)
    {
        options.Validate();
        if (images.Count < 2) throw new ArgumentException($"ssl: training needs at least 2 images; {images.Name} has {images.Count}");
        var clock = Stopwatch.StartNew();
        var rng = new Rng(options.Seed);
        var encoder = new SslEncoder(images.Channels, rng, options.ProjectionDimension);
        var groups = Nn.Optim.ParamGroups.DecayAndNoDecay(encoder.NamedParameters(), options.WeightDecay);
        var adam = new AdamW(groups, new AdamOptions(Lr: options.Lr, WeightDecay: options.WeightDecay));
        var augment = new SslAugmentation(options.Augment);
        int batch = Math.Min(options.BatchSize, images.Count);
        double budget = options.Minutes * 60;
        ulong viewSeed = SslAugmentation.ViewSeed((ulong)options.Seed, -1);
        int[] order = rng.Permutation(images.Count);
        int cursor = 0, step = 0;
        long seen = 0;
        double loss = double.NaN, logEvery = 30, nextLog = logEvery;
        bool byTime = false;
        while (true)
        {
            double fraction = Math.Max(clock.Elapsed.TotalSeconds / budget, options.MaxSteps is int m ? (double)step / m : 0);
            if (fraction >= 1) { byTime = options.MaxSteps is not int ms || step < ms; break; }
            if (cursor + batch > images.Count) { order = rng.Permutation(images.Count); cursor = 0; }
            var idx = order.AsSpan(cursor, batch).ToArray();
            cursor += batch;
            var both = new int[2 * batch];
            idx.CopyTo(both, 0);
            idx.CopyTo(both, batch);
            var x = augment.Views(images, both, viewSeed, seen * 2);
            adam.SetLr(LearningRate(options, fraction));
            adam.ZeroGrad();
            var l = NtXent.Loss(encoder.Project(encoder.Represent(x)), options.Temperature);
            l.Backward();
            adam.Step();
            loss = l.Data[0];
            step++;
            seen += batch;
            progress?.Report(Math.Min(1, fraction));
            if (clock.Elapsed.TotalSeconds >= nextLog)
            {
                log?.Invoke(FormattableString.Invariant($"ssl step {step}: loss {loss:F4}, {seen} images, {clock.Elapsed.TotalSeconds:F0} s"));
                nextLog += logEvery;
            }
        }
        encoder.SetTraining(false);
        return (encoder, new SslTrainingReport(step, seen, loss, clock.Elapsed.TotalSeconds, byTime));
    }

    /// <summary>Linear warm-up over the first <see cref="SslOptions.WarmupFraction"/> of the budget, then cosine to 0.</summary>
    public static double LearningRate(SslOptions o, double fraction)
    {
        fraction = Math.Clamp(fraction, 0, 1);
        if (fraction < o.WarmupFraction) return o.Lr * Math.Max(fraction / o.WarmupFraction, 0.01);
        double t = (fraction - o.WarmupFraction) / (1 - o.WarmupFraction);
        return o.Lr * 0.5 * (1 + Math.Cos(Math.PI * t));
    }
}
