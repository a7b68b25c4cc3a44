using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Tests.Nn;

/// <summary>Initialiser statistics against the spec §2.1 formulas, within sampling error for large tensors.</summary>
public class InitTests
{
    private static (double Mean, double Std, float Min, float Max) Stats(Tensor t)
    {
        double mean = t.Data.Average(v => (double)v);
        double var = t.Data.Average(v => (v - mean) * (v - mean));
        return (mean, Math.Sqrt(var), t.Min(), t.Max());
    }

    // Weight [out, in, k, k] = [64, 32, 3, 3]: fan_in = 288, fan_out = 576, n = 18 432 samples, so the sample
    // std is within ~1% of the true one (relative SE ≈ 1/√(2n) ≈ 0.5% for normals); we allow 3%.
    private static readonly int[] ConvShape = [64, 32, 3, 3];
    private const int FanIn = 288, FanOut = 576;

    [Fact]
    public void FansFollowEdmDefinition()
    {
        Assert.Equal((FanIn, FanOut), Init.Fans(ConvShape));
        Assert.Equal((7, 5), Init.Fans([5, 7]));
        Assert.Throws<ArgumentException>(() => Init.Fans([5]));
    }

    [Theory]
    [InlineData(InitMode.XavierUniform, 1f)]
    [InlineData(InitMode.XavierNormal, 1f)]
    [InlineData(InitMode.KaimingUniform, 1f)]
    [InlineData(InitMode.KaimingNormal, 1f)]
    [InlineData(InitMode.TorchDefault, 1f)]
    [InlineData(InitMode.XavierUniform, 1e-5f)]
    [InlineData(InitMode.KaimingNormal, 0.5f)]
    public void StandardDeviationAndBoundsMatchTheFormulas(InitMode mode, float scale)
    {
        var t = Tensor.Zeros(ConvShape);
        new WeightInit(mode, scale).Apply(t, null, new Rng(11));
        double expectedStd = mode switch
        {
            InitMode.XavierUniform => Math.Sqrt(6.0 / (FanIn + FanOut)) / Math.Sqrt(3),
            InitMode.XavierNormal => Math.Sqrt(2.0 / (FanIn + FanOut)),
            InitMode.KaimingUniform => Math.Sqrt(3.0 / FanIn) / Math.Sqrt(3),
            InitMode.KaimingNormal => Math.Sqrt(1.0 / FanIn),
            _ => 1.0 / Math.Sqrt(FanIn) / Math.Sqrt(3),
        } * scale;
        var s = Stats(t);
        Assert.InRange(s.Std, 0.97 * expectedStd, 1.03 * expectedStd);
        Assert.InRange(s.Mean, -4 * expectedStd / Math.Sqrt(t.Size), 4 * expectedStd / Math.Sqrt(t.Size));
        if (mode is InitMode.XavierUniform or InitMode.KaimingUniform or InitMode.TorchDefault)
        {
            double bound = expectedStd * Math.Sqrt(3);
            Assert.True(s.Max <= bound && s.Min >= -bound, $"[{s.Min}, {s.Max}] outside ±{bound}");
            Assert.True(s.Max > 0.99 * bound && s.Min < -0.99 * bound, "uniform draws should reach near both bounds");
        }
    }

    [Fact]
    public void SongPresetsScaleXavierUniform()
    {
        var a = Tensor.Zeros(ConvShape);
        var b = Tensor.Zeros(ConvShape);
        var c = Tensor.Zeros(ConvShape);
        WeightInit.Song.Apply(a, null, new Rng(3));
        WeightInit.SongZero.Apply(b, null, new Rng(3));
        WeightInit.SongAttn.Apply(c, null, new Rng(3));
        for (int i = 0; i < a.Size; i += 97)
        {
            Assert.Equal(a.Data[i] * 1e-5f, b.Data[i], 1e-12f);
            Assert.Equal(a.Data[i] * MathF.Sqrt(0.2f), c.Data[i], 1e-6f);
        }
    }

    [Fact]
    public void BiasesAreZeroUnlessBiasScaleIsSetThenUseTheWeightFans()
    {
        var w = Tensor.Zeros(64, 32);
        var b = Tensor.Full(9f, 4096);
        WeightInit.Song.Apply(w, b, new Rng(1));
        Assert.All(b.Data, v => Assert.Equal(0f, v));
        WeightInit.Torch.Apply(w, b, new Rng(1)); // PyTorch: bias U(±1/√fan_in) with fan_in = 32
        float bound = 1f / MathF.Sqrt(32);
        Assert.True(b.Max() <= bound && b.Min() >= -bound && b.Max() > 0.98f * bound);
    }

    [Fact]
    public void TruncatedNormalRespectsTheCutAndStd()
    {
        var t = Tensor.Zeros(100_000);
        Init.TruncatedNormal(t, new Rng(5), std: 0.02f); // DINO: cut at ±2 absolute, i.e. untruncated in practice
        var s = Stats(t);
        Assert.InRange(s.Std, 0.0196, 0.0204);
        // A tight cut: N(0,1) on [−1, 1.5]; every sample inside, std of the truncated law ≈ 0.6447 (computed
        // from φ and Φ: var = 1 − (bφ(b) − aφ(a))/Z − ((φ(a) − φ(b))/Z)²).
        Init.TruncatedNormal(t, new Rng(6), std: 1f, low: -1f, high: 1.5f);
        s = Stats(t);
        Assert.True(s.Min >= -1f && s.Max <= 1.5f);
        Assert.InRange(s.Std, 0.6447 - 0.006, 0.6447 + 0.006);
        Assert.Throws<ArgumentException>(() => Init.TruncatedNormal(t, new Rng(7), std: 0.01f, low: 1f, high: 2f));
    }

    [Fact]
    public void DinoPresetDrawsTruncatedNormalWeightsAndZeroBiases()
    {
        var w = Tensor.Zeros(512, 768);
        var b = Tensor.Full(1f, 512);
        WeightInit.DinoTruncNormal.Apply(w, b, new Rng(2));
        Assert.InRange(Stats(w).Std, 0.0198, 0.0202);
        Assert.All(b.Data, v => Assert.Equal(0f, v));
    }
}
