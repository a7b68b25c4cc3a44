using System.Diagnostics;
using Cedm.Data;
using Cedm.Diffusion;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Training;
using Cedm.Tensors;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Diffusion.Coherence;

/// <summary>Coherence in the training step, and the CAD claim that c → 0 makes the conditions collapse (related-seeds C.1).</summary>
public sealed class CoherenceTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-cohtrain-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DroppedConditionsGetZeroCoherenceAndTheDrawsAreUnchanged()
    {
        var data = TrainingTestData.Patterns(8);
        var labels = LabelSource.FromLabels(data.Labels!);
        var scores = labels.Ids!.Select(id => 0.25f + 0.25f * id).ToArray();
        var options = TrainingTestData.Options(0.016, batch: 16) with { PUncond = 0.5 };
        var coherent = new EdmTrainer(TrainingTestData.Micro(3) with { Coherence = true }, data, labels, options, scores);
        var plain = new EdmTrainer(TrainingTestData.Micro(3), data, labels, options);
        coherent.TrainOneStep();
        plain.TrainOneStep();
        var c = coherent.LastCondition!;
        c.Labels!.Data.Should().Equal(plain.LastCondition!.Labels!.Data, "coherence adds no draws: the same rows are dropped");
        int dropped = 0;
        for (int i = 0; i < 16; i++)
        {
            int k = Array.IndexOf(c.Labels.Data, 1f, i * 3, 3) is var j && j >= 0 ? j - i * 3 : -1;
            if (k < 0) { dropped++; c.Coherence!.Data[i].Should().Be(0f, "a dropped condition goes with c = 0 (C.1)"); }
            else c.Coherence!.Data[i].Should().Be(0.25f + 0.25f * k, "each image carries its own score");
        }
        dropped.Should().BeInRange(1, 15);
        FluentActions.Invoking(() => new EdmTrainer(TrainingTestData.Micro(3) with { Coherence = true }, data, labels, options))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new EdmTrainer(TrainingTestData.Micro(3), data, labels, options, scores)).Should().Throw<ArgumentException>();
    }

    /// <summary>
    /// Toy set: three 8×8 patterns, 16 images each. Half the images (c = 1) carry their true id, the other half
    /// (c = 0) a random id. After 300 steps the measure is the spread of the denoiser over conditions:
    /// S(c) = mean over 12 noisy inputs x = y + σ·n (σ ∈ {0.5, 1, 2, 5}) and the 3 pairs k ≠ k′ of ‖D(x; σ, k, c) − D(x; σ, k′, c)‖₂.
    /// CAD's claim is S(0) ≪ S(1): at c = 0 the model has learnt that the id says nothing.
    /// </summary>
    [Fact]
    public void AtZeroCoherenceTheConditionsCollapse()
    {
        var clock = Stopwatch.StartNew();
        var (data, ids, scores) = NoisyToySet(perLabel: 18);
        var labels = LabelSource.FromLabels(ids);
        var options = new TrainingOptions
        {
            Batch = 16, Kimg = 0.016 * 300, Lr = 5e-3, LrRampupKimg = 0.2, EmaHalflifeKimg = 0.2, CheckpointKimg = 1000, LogKimg = 1, Seed = 1,
        };
        var trainer = new EdmTrainer(TrainingTestData.Micro(3, dropout: 0) with { Coherence = true }, data, labels, options, scores);
        var summary = TrainingRun.Train(trainer, _dir);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        double s0 = Spread(trainer.Ema, data, 0f), s1 = Spread(trainer.Ema, data, 1f), sHalf = Spread(trainer.Ema, data, 0.5f);
        output.WriteLine($"{summary.Step} steps, loss {summary.LastLoss:F4}, train {trainSeconds:F1} s, total {clock.Elapsed.TotalSeconds:F1} s; " +
            $"spread S(0) = {s0:F4}, S(0.5) = {sHalf:F4}, S(1) = {s1:F4}, S(0)/S(1) = {s0 / s1:F3}");
        s1.Should().BeGreaterThan(0.5, "at c = 1 the ids select different patterns");
        (s0 / s1).Should().BeLessThan(0.45, "at c = 0 the outputs for different clusters are close to each other");
    }

    /// <summary>
    /// The toy set: true label t = i mod 3; image i is coherent (c = 1, id t) when (i / 3) is even, else incoherent
    /// (c = 0) with id (t + m) mod 3 for the m-th incoherent image of label t. With a multiple of 3 incoherent images
    /// per label, every (label, id) pair occurs equally often at c = 0, so there the id is exactly independent of the
    /// image (random ids of a small set would be correlated with the labels by chance) and mostly wrong (2/3).
    /// </summary>
    public static (ImageDataset Data, long[] Ids, float[] Scores) NoisyToySet(int perLabel)
    {
        var data = TrainingTestData.Patterns(perLabel);
        var ids = new long[data.Count];
        var scores = new float[data.Count];
        var seen = new int[3];
        for (int i = 0; i < data.Count; i++)
        {
            int t = i % 3;
            bool coherent = (i / 3) % 2 == 0;
            scores[i] = coherent ? 1f : 0f;
            ids[i] = coherent ? t : (t + seen[t]++) % 3;
        }
        return (data, ids, scores);
    }

    public static double Spread(IDenoiser denoiser, ImageDataset data, float c, float[]? sigmaLevels = null)
    {
        using var _ = Cedm.Tensors.Autograd.GradMode.NoGrad();
        float[] sigmas = sigmaLevels ?? [0.5f, 1f, 2f, 5f];
        var rng = new Rng(11);
        const int inputs = 12;
        var clean = new float[inputs * 64];
        data.ToTrainingRange(0, inputs, clean);
        double total = 0;
        int terms = 0;
        foreach (float s in sigmas)
        {
            var noise = Tensor.Randn(rng, [inputs, 1, 8, 8]);
            var x = new float[inputs * 64];
            for (int j = 0; j < x.Length; j++) x[j] = clean[j] + s * noise.Data[j];
            // All three conditions in one batch: rows [k·inputs, (k+1)·inputs) carry condition k.
            var xs = Tensor.Concat(0, Enumerable.Repeat(new Tensor(x, inputs, 1, 8, 8), 3).ToArray());
            var ks = Enumerable.Range(0, 3 * inputs).Select(r => r / inputs).ToArray();
            var d = denoiser.Denoise(xs, Tensor.Full(s, 3 * inputs), new Conditioning(Cedm.Nn.OneHot.FromIds(ks, 3), Tensor.Full(c, 3 * inputs))).Data;
            for (int a = 0; a < 3; a++)
                for (int b = a + 1; b < 3; b++)
                    for (int i = 0; i < inputs; i++)
                    {
                        double ss = 0;
                        for (int p = 0; p < 64; p++) { double diff = d[(a * inputs + i) * 64 + p] - d[(b * inputs + i) * 64 + p]; ss += diff * diff; }
                        total += Math.Sqrt(ss);
                        terms++;
                    }
        }
        return total / terms;
    }
}
