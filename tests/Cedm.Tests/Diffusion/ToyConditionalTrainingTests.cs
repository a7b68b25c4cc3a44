using System.Diagnostics;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Diffusion;

/// <summary>
/// End to end without the CLI: a tiny label-conditional model trained for a few hundred steps on three distinct 8×8
/// patterns (one per label) generates, for each label, images nearer that label's pattern than the others.
/// </summary>
public sealed class ToyConditionalTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-toy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EachLabelGeneratesItsOwnPattern()
    {
        var clock = Stopwatch.StartNew();
        var data = TrainingTestData.Patterns(16);
        var labels = LabelSource.FromLabels(data.Labels!);
        var options = new TrainingOptions
        {
            Batch = 16, Kimg = 0.016 * 250, Lr = 2e-3, LrRampupKimg = 0.2, EmaHalflifeKimg = 0.2, CheckpointKimg = 1000, LogKimg = 1, Seed = 1,
        };
        var trainer = new EdmTrainer(TrainingTestData.Micro(labels.K, dropout: 0), data, labels, options);
        var summary = TrainingRun.Train(trainer, _dir);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var sampler = new EdmSampler(trainer.Ema, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 12, BatchSize = 24 });
        var wins = new int[3];
        const int perLabel = 8;
        for (int c = 0; c < 3; c++)
        {
            var r = sampler.Sample(Enumerable.Range(0, perLabel).Select(i => (long)(100 * c + i)).ToArray(), 1, 8, 8, ConditionDraw.Fixed(c, 3));
            var u8 = r.ToUInt8();
            for (int i = 0; i < perLabel; i++)
            {
                var dist = Enumerable.Range(0, 3).Select(p => Distance(u8.AsSpan(i * 64, 64), p)).ToArray();
                if (Array.IndexOf(dist, dist.Min()) == c) wins[c]++;
            }
        }
        output.WriteLine($"{summary.Step} steps, final loss {summary.LastLoss:F4}, train {trainSeconds:F1} s, total {clock.Elapsed.TotalSeconds:F1} s; nearest-own-pattern {string.Join("/", wins)} of {perLabel}");
        wins.Should().OnlyContain(w => w >= perLabel - 1, "samples of each label resemble that label's pattern");
    }

    private static double Distance(ReadOnlySpan<byte> img, int pattern)
    {
        double s = 0;
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) { double d = img[y * 8 + x] - TrainingTestData.Pattern(pattern, x, y, 8); s += d * d; }
        return Math.Sqrt(s);
    }
}
