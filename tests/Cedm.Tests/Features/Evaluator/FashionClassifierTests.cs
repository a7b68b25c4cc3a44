using Cedm.Data;
using Cedm.Features;
using Cedm.Features.Evaluator;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Features.Evaluator;

/// <summary>The evaluator CNN: shapes, deterministic training, save/load with metadata, 32 → 28 centre crop.</summary>
public sealed class FashionClassifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-fmnist-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>n labelled 28x28 images: class k is a bright horizontal bar at row 2k + 4 over noise.</summary>
    internal static ImageDataset Bars(int n, int seed, int pad = 0)
    {
        var rng = new Rng(seed);
        int s = 28 + 2 * pad;
        var px = new byte[n * s * s];
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            int k = i % 10;
            labels[i] = k;
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                {
                    double v = (y == 2 * k + 4 ? 200 : 30) + 20 * rng.NextNormal();
                    px[i * s * s + (y + pad) * s + x + pad] = (byte)Math.Clamp(v, 0, 255);
                }
        }
        return new ImageDataset("bars", px, n, s, s, 1, labels);
    }

    [Fact]
    public void ForwardShapes()
    {
        var model = new FashionClassifier(new Rng(0));
        var x = Tensor.Randn(new Rng(1), [3, 1, 28, 28]);
        model.Features(x).ShapeArray().Should().Equal(3, FashionClassifier.FeatureDimension);
        model.Forward(x).ShapeArray().Should().Equal(3, FashionClassifier.Classes);
        model.ParameterCount().Should().BeLessThan(250_000, "the shipped file must stay under 1 MB");
        var wrong = () => model.Features(Tensor.Zeros(1, 1, 32, 32));
        wrong.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void TrainingIsDeterministicAndLearnsAnEasyTask()
    {
        var train = Bars(200, 1);
        var test = Bars(100, 2);
        var options = new FashionClassifierOptions(Epochs: 3, BatchSize: 10, Lr: 3e-3, Seed: 5);
        var (a, report) = FashionClassifierTrainer.Train(train, test, options);
        var (b, _) = FashionClassifierTrainer.Train(train, test, options);
        a.StateDict().Zip(b.StateDict()).Should().OnlyContain(p => p.First.Value.Data.SequenceEqual(p.Second.Value.Data));
        report.Steps.Should().Be(60);
        report.TestAccuracy.Should().BeGreaterThan(0.8);
        FashionClassifierTrainer.Accuracy(a, test).Should().Be(report.TestAccuracy);
    }

    [Fact]
    public void SaveLoadKeepsFeaturesAndMetadataAndCropsPaddedImages()
    {
        var model = new FashionClassifier(new Rng(3));
        var options = new FashionClassifierOptions(Seed: 3);
        var report = new FashionClassifierReport(0.875, 0.3, 0.9, 10, 1.5, 100, 50);
        string path = Path.Combine(_dir, "ev.safetensors");
        FashionEvaluatorFeatures.Save(model, path, options, report, "fashion-mnist");
        File.Exists(FashionEvaluatorFeatures.SidePath(path)).Should().BeTrue();

        var fx = (FashionEvaluatorFeatures)FeatureExtractors.Create($"fmnist:{path}", new FeatureExtractorContext { ImageShape = (28, 28, 1) });
        fx.TestAccuracy.Should().Be(0.875);
        fx.Name.Should().Be($"fmnist:{Path.GetFullPath(path)}");
        fx.Dimension.Should().Be(128);
        var images = Bars(12, 4);
        var f = fx.Extract(images);
        f.ShapeArray().Should().Equal(12, 128);
        new FashionEvaluatorFeatures(model, path, fx.Metadata).Extract(images).Data.Should().Equal(f.Data);

        // The same images padded to 32x32 (as a U-Net trained on padded data samples them) give the same features.
        fx.Extract(Bars(12, 4, pad: 2)).Data.Should().Equal(f.Data);
        var odd = () => fx.Extract(new ImageDataset("odd", new byte[2 * 31 * 31], 2, 31, 31, 1));
        odd.Should().Throw<ArgumentException>().WithMessage("*28x28x1*");
    }

    [Fact]
    public void LoadRefusesOtherFilesAndMissingOnes()
    {
        var missing = () => FashionEvaluatorFeatures.Load(Path.Combine(_dir, "none.safetensors"));
        missing.Should().Throw<FileNotFoundException>().WithMessage("*cedm evaluator train*");
        string other = Path.Combine(_dir, "ssl.safetensors");
        new FashionClassifier(new Rng(0)).SaveSafetensors(other, new Dictionary<string, string> { ["cedm_kind"] = "ssl-simclr" });
        var wrong = () => FashionEvaluatorFeatures.Load(other);
        wrong.Should().Throw<InvalidDataException>();
    }
}
