using Cedm.Clustering;
using Cedm.Diffusion.Coherence;
using Cedm.IO;
using Cedm.Stages;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.Coherence;

public sealed class CoherenceScoresTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-coh-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Rows: a peaked row, a two-way tie, a uniform row, a one-hot row (K = 3).
    private static readonly float[] Probs = [0.7f, 0.2f, 0.1f, 0.5f, 0.5f, 0f, 1 / 3f, 1 / 3f, 1 / 3f, 0f, 0f, 1f];

    private static ClusterAssignment SoftAssignment() => new("gmm", 3, [0, 0, 1, 2], [0.7f, 0.5f, 1 / 3f, 1f], Probs);

    private static Cedm.Diffusion.Labels.ClusterLabels Soft() => ConditionSources.FromAssignment(SoftAssignment());

    [Fact]
    public void MaxProbIsTheRowMaximumOfTheProbabilities()
    {
        var s = CoherenceScores.FromClusters(Soft(), "maxprob");
        s.Values.Should().Equal([0.7f, 0.5f, 1 / 3f, 1f], (a, b) => Math.Abs(a - b) < 1e-6f);
        s.Basis.Should().Contain("soft assignment");
    }

    [Fact]
    public void EntropyScoreIsOneMinusNormalisedEntropy()
    {
        var s = CoherenceScores.FromClusters(Soft(), "entropy");
        double h0 = -(0.7 * Math.Log(0.7) + 0.2 * Math.Log(0.2) + 0.1 * Math.Log(0.1));
        s.Values[0].Should().BeApproximately((float)(1 - h0 / Math.Log(3)), 1e-5f);
        s.Values[1].Should().BeApproximately((float)(1 - Math.Log(2) / Math.Log(3)), 1e-5f);   // 0.36907
        s.Values[2].Should().BeApproximately(0f, 1e-5f, "a uniform row carries no information");
        s.Values[3].Should().Be(1f, "a one-hot row is fully coherent");
    }

    [Fact]
    public void KMeansFallsBackToItsDistanceSoftmaxAndHasNoEntropy()
    {
        var kmAssignment = new ClusterAssignment("kmeans", 2, [0, 1, 1], [0.9f, 0.6f, 0.55f]);
        var km = ConditionSources.FromAssignment(kmAssignment);
        var s = CoherenceScores.FromClusters(km, "maxprob");
        s.Values.Should().Equal(0.9f, 0.6f, 0.55f);
        s.Basis.Should().Contain("softmax over negative centroid distances");
        CoherenceScores.FromClusters(km, "confidence").Values.Should().Equal(0.9f, 0.6f, 0.55f);
        FluentActions.Invoking(() => CoherenceScores.FromClusters(km, "entropy"))
            .Should().Throw<InvalidDataException>().WithMessage("*needs soft probabilities*");
        FluentActions.Invoking(() => CoherenceScores.FromClusters(ConditionSources.FromAssignment(kmAssignment, hasConfidence: false), "confidence"))
            .Should().Throw<InvalidDataException>().WithMessage("*saved no per-image confidence*");
        FluentActions.Invoking(() => CoherenceScores.FromClusters(km, "margin")).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void ClusterFolderRoundTrip()
    {
        SoftAssignment().Save(_dir);
        CoherenceScores.FromClusters(ConditionSources.LoadClusters(_dir), "confidence").Values.Should().Equal(SoftAssignment().Confidence);
        File.Delete(Path.Combine(_dir, ClusterAssignment.ConfidenceFile));
        FluentActions.Invoking(() => CoherenceScores.FromClusters(ConditionSources.LoadClusters(_dir), "confidence")).Should().Throw<InvalidDataException>();
        CoherenceScores.FromClusters(ConditionSources.LoadClusters(_dir), "maxprob").Values[0].Should().BeApproximately(0.7f, 1e-6f, "probs.npy is still there");
    }

    [Fact]
    public void UserFilesAreCheckedForTypeLengthRangeAndNaN()
    {
        string good = Path.Combine(_dir, "good.npy");
        Npy.Write(good, new double[] { 0, 0.25, 1 }, 3);
        CoherenceScores.FromFile(good, 3).Values.Should().Equal(0f, 0.25f, 1f);

        string Write(string name, Action<string> write) { string p = Path.Combine(_dir, name); write(p); return p; }
        var cases = new (string Path, string Message)[]
        {
            (good, "*3 scores for 4 training images*"),
            (Write("range.npy", p => Npy.Write(p, new float[] { 0.5f, 1.5f, 0 }, 3)), "*score 1 is 1.5, outside [0, 1]*"),
            (Write("nan.npy", p => Npy.Write(p, new float[] { float.NaN, 0, 0 }, 3)), "*score 0 is NaN*"),
            (Write("int.npy", p => Npy.Write(p, new long[] { 0, 1, 1 }, 3)), "*expected float32 or float64*"),
            (Write("2d.npy", p => Npy.Write(p, new float[6], 3, 2)), "*expected shape*"),
        };
        foreach (var (path, message) in cases)
            FluentActions.Invoking(() => CoherenceScores.FromFile(path, path == good ? 4 : 3))
                .Should().Throw<InvalidDataException>().WithMessage(message);
        FluentActions.Invoking(() => CoherenceScores.FromFile(Path.Combine(_dir, "missing.npy"), 3)).Should().Throw<FileNotFoundException>();
    }
}
