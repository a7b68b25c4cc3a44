using System.Diagnostics;
using Cedm.Data;
using Cedm.Nn.Optim;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Features.Evaluator;

/// <summary>
/// Trains <see cref="FashionClassifier"/> on labelled 28×28×1 images with cross-entropy and Adam. Deterministic
/// given the seed (initialisation and the per-epoch shuffles both come from it) and the thread count.
/// </summary>
public static class FashionClassifierTrainer
{
    private const int EvalBatch = 500;

    public static (FashionClassifier Model, FashionClassifierReport Report) Train(ImageDataset train, ImageDataset test,
        FashionClassifierOptions options, IProgress<double>? progress = null, Action<string>? log = null)
    {
        options.Validate();
        RequireLabelled(train);
        RequireLabelled(test);
        var clock = Stopwatch.StartNew();
        var rng = new Rng(options.Seed);
        var model = new FashionClassifier(rng);
        var adam = new Adam(model.Parameters(), new AdamOptions(Lr: options.Lr));
        int stepsPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        int total = stepsPerEpoch * options.Epochs, step = 0;
        double lastLoss = 0, lastAcc = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = rng.Permutation(train.Count);
            double lossSum = 0;
            long correct = 0;
            for (int b = 0; b < stepsPerEpoch; b++)
            {
                int start = b * options.BatchSize, n = Math.Min(options.BatchSize, train.Count - start);
                var idx = order.AsSpan(start, n).ToArray();
                var batch = train.Select(idx);
                var x = ImageBatch.ToTensor(batch, 0, n);
                var targets = batch.Labels!.Select(l => (int)l).ToArray();
                adam.SetLr(options.Lr * 0.5 * (1 + Math.Cos(Math.PI * step / total)));
                adam.ZeroGrad();
                var logits = model.Forward(x);
                var loss = Tensor.CrossEntropy(logits, targets);
                loss.Backward();
                adam.Step();
                step++;
                lossSum += loss.Data[0] * n;
                correct += CountCorrect(logits, targets);
                progress?.Report((double)step / total);
            }
            lastLoss = lossSum / train.Count;
            lastAcc = (double)correct / train.Count;
            log?.Invoke(FormattableString.Invariant($"epoch {epoch + 1}/{options.Epochs}: loss {lastLoss:F4}, train accuracy {lastAcc:P2}, {clock.Elapsed.TotalSeconds:F0} s"));
        }
        double testAcc = Accuracy(model, test);
        var report = new FashionClassifierReport(testAcc, lastLoss, lastAcc, step, clock.Elapsed.TotalSeconds, train.Count, test.Count);
        return (model, report);
    }

    /// <summary>Top-1 accuracy of <paramref name="model"/> on labelled 28×28 images.</summary>
    public static double Accuracy(FashionClassifier model, ImageDataset images)
    {
        RequireLabelled(images);
        model.SetTraining(false);
        long correct = 0;
        using (GradMode.NoGrad())
        {
            for (int start = 0; start < images.Count; start += EvalBatch)
            {
                int n = Math.Min(EvalBatch, images.Count - start);
                var logits = model.Forward(ImageBatch.ToTensor(images, start, n));
                var targets = new int[n];
                for (int i = 0; i < n; i++) targets[i] = (int)images.Labels![start + i];
                correct += CountCorrect(logits, targets);
            }
        }
        return (double)correct / images.Count;
    }

    private static long CountCorrect(Tensor logits, int[] targets)
    {
        var d = logits.Data;
        int k = logits.Dim(1);
        long correct = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            int best = 0;
            for (int j = 1; j < k; j++) if (d[i * k + j] > d[i * k + best]) best = j;
            if (best == targets[i]) correct++;
        }
        return correct;
    }

    private static void RequireLabelled(ImageDataset images)
    {
        if (images.Labels is null) throw new ArgumentException($"{images.Name}: the evaluator classifier needs labelled images");
        if (images.Height != FashionClassifier.InputSize || images.Width != FashionClassifier.InputSize || images.Channels != 1)
            throw new ArgumentException($"{images.Name}: the evaluator classifier expects 28x28x1 images, got {images.Height}x{images.Width}x{images.Channels}");
        foreach (var l in images.Labels)
            if (l < 0 || l >= FashionClassifier.Classes) throw new ArgumentException($"{images.Name}: label {l} outside [0, {FashionClassifier.Classes})");
    }
}
