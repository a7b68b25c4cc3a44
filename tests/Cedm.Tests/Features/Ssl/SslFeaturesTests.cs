using Cedm.Features;
using Cedm.Features.Ssl;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Features.Ssl;

/// <summary>The encoder's shapes, deterministic step-limited training, save/load and registry wiring of `ssl`.</summary>
public sealed class SslFeaturesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-ssl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SslOptions Tiny(int seed = 0) => new() { MaxSteps = 3, Minutes = 5, BatchSize = 8, Seed = seed };

    [Theory]
    [InlineData(28, 1)]
    [InlineData(32, 3)]
    public void EncoderShapes(int size, int channels)
    {
        var enc = new SslEncoder(channels, new Rng(1));
        var h = enc.Represent(Tensor.Randn(new Rng(2), [3, channels, size, size]));
        h.ShapeArray().Should().Equal(3, SslEncoder.RepresentationDimension);
        enc.Project(h).ShapeArray().Should().Equal(3, 128);
        var odd = () => enc.Represent(Tensor.Zeros(1, channels, 27, 27));
        odd.Should().Throw<ArgumentException>().WithMessage("*even*");
    }

    [Fact]
    public void StepLimitedTrainingIsDeterministicAndReported()
    {
        var images = SslAugmentationTests.Gradients(20);
        var a = SslFeatures.Train(images, Tiny());
        var b = SslFeatures.Train(images, Tiny());
        a.Report!.Steps.Should().Be(3);
        a.Report.ImagesSeen.Should().Be(24);
        a.Report.StoppedByTime.Should().BeFalse();
        double.IsFinite(a.Report.FinalLoss).Should().BeTrue();
        a.Encoder.StateDict().Zip(b.Encoder.StateDict()).Should().OnlyContain(p => p.First.Value.Data.SequenceEqual(p.Second.Value.Data));
        var c = SslFeatures.Train(images, Tiny(seed: 1));
        c.Encoder.StateDict().First().Value.Data.Should().NotEqual(a.Encoder.StateDict().First().Value.Data);
    }

    [Fact]
    public void TrainingLowersTheContrastiveLossOnFixedViews()
    {
        // The trainer initialises from Rng(seed) exactly like this untrained encoder, so both are scored on the
        // same fixed pair of views of 16 images; 60 SimCLR steps must lower NT-Xent clearly.
        var images = SslAugmentationTests.Gradients(32);
        var options = new SslOptions { MaxSteps = 60, BatchSize = 16, Seed = 4, Lr = 3e-3 };
        var untrained = new SslEncoder(1, new Rng(4));
        var trained = SslFeatures.Train(images, options).Encoder;
        var idx = Enumerable.Range(0, 16).Concat(Enumerable.Range(0, 16)).ToArray();
        var views = new SslAugmentation(options.Augment).Views(images, idx, 99, 0);
        double Loss(SslEncoder e) => NtXent.Loss(e.Project(e.Represent(views)), options.Temperature).Data[0];
        Loss(trained).Should().BeLessThan(Loss(untrained) - 0.2);
    }

    [Fact]
    public void FeaturesAreUnitVectorsAndSurviveSaveAndLoad()
    {
        var images = SslAugmentationTests.Gradients(10);
        var trained = SslFeatures.Train(images, Tiny());
        trained.Name.Should().Be("ssl");
        var f = trained.Extract(images);
        f.ShapeArray().Should().Equal(10, 128);
        for (int i = 0; i < 10; i++)
            Math.Sqrt(f.Data.AsSpan(i * 128, 128).ToArray().Sum(v => (double)v * v)).Should().BeApproximately(1, 1e-4);
        string path = Path.Combine(_dir, "enc.ssl.safetensors");
        trained.Save(path, overwrite: false);
        trained.Name.Should().Be($"ssl:{path}");
        var again = () => trained.Save(path, overwrite: false);
        again.Should().Throw<IOException>();

        var ctx = new FeatureExtractorContext { ImageShape = (12, 12, 1) };
        var loaded = FeatureExtractors.Create($"ssl:{path}", ctx);
        loaded.Should().BeOfType<SslFeatures>();
        loaded.Extract(images).Data.Should().Equal(f.Data);
        FeatureExtractors.Resolved(trained, path).Should().Be($"ssl:{Path.GetFullPath(path)}");
    }

    [Fact]
    public void RegistryTrainsOnTheFitDataAndRejectsBadSpecs()
    {
        var images = SslAugmentationTests.Gradients(16);
        int fits = 0;
        var ctx = new FeatureExtractorContext { ImageShape = (12, 12, 1), FitData = () => { fits++; return images; }, Ssl = Tiny() };
        var fx = FeatureExtractors.Create("ssl", ctx);
        fx.Should().BeOfType<SslFeatures>().Which.Report!.Steps.Should().Be(3);
        fits.Should().Be(1);
        var quick = (SslFeatures)FeatureExtractors.Create("ssl:quick", ctx with { Ssl = null });
        quick.Report!.Steps.Should().BeLessThanOrEqualTo(20);
        var bad = () => FeatureExtractors.Create("ssl:fast", ctx);
        bad.Should().Throw<ArgumentException>().WithMessage("*ssl:quick*");
        var noData = () => FeatureExtractors.Create("ssl", ctx with { FitData = null });
        noData.Should().Throw<ArgumentException>().WithMessage("*needs images*");
        var missing = () => FeatureExtractors.Create($"ssl:{Path.Combine(_dir, "none.safetensors")}", ctx);
        missing.Should().Throw<FileNotFoundException>();
    }
}
