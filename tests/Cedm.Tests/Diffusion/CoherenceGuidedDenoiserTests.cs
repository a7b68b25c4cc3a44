using Cedm.Diffusion;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Sampling;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Diffusion;

public class CoherenceGuidedDenoiserTests
{
    /// <summary>Records every call; D(x; σ, k, c) = σ·x + 10·(k + 1) + 100·c (k = one-hot index, 0 for the zero row).</summary>
    private sealed class RecordingDenoiser(bool coherent = true) : IDenoiser
    {
        public readonly List<(int Rows, float[] Labels, float[]? Coherence)> Calls = [];
        public int LabelDim => 3;
        public bool HasCoherence => coherent;

        public static float Value(float sigma, float x, int k, float c) => sigma * x + (k < 0 ? 0 : 10 * (k + 1)) + 100 * c;

        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
        {
            int n = x.Dim(0), per = x.Size / n;
            Calls.Add((n, condition!.Labels!.Data.ToArray(), condition.Coherence?.Data.ToArray()));
            var y = new float[x.Size];
            for (int i = 0; i < n; i++)
            {
                int k = Array.IndexOf(condition.Labels!.Data, 1f, i * 3, 3) is var j && j >= 0 ? j - i * 3 : -1;
                float c = condition.Coherence?.Data[i] ?? 1f;
                for (int p = 0; p < per; p++) y[i * per + p] = Value(sigma.Data[i], x.Data[i * per + p], k, c);
            }
            return new Tensor(y, x.ShapeArray());
        }
    }

    [Fact]
    public void GuidedOutputCombinesHighAndLowCoherenceElementwise()
    {
        var fake = new RecordingDenoiser();
        var guided = new CoherenceGuidedDenoiser(fake, 2.5, lowCoherence: 0.2);
        var x = Tensor.Randn(new Rng(1), [3, 1, 2, 2]);
        var sigma = new Tensor([0.5f, 2f, 7f], 3);
        var labels = Cedm.Nn.OneHot.FromIds([2, 0, 1], 3);
        var hi = new Tensor([1f, 0.75f, 0.5f], 3);
        var d = guided.Denoise(x, sigma, new Conditioning(labels, hi));

        fake.Calls.Should().ContainSingle("both terms run as one batch of 2N");
        var call = fake.Calls[0];
        call.Rows.Should().Be(6);
        call.Labels.Should().Equal([.. labels.Data, .. labels.Data], "the same condition k in both terms");
        call.Coherence.Should().Equal(1f, 0.75f, 0.5f, 0.2f, 0.2f, 0.2f);
        int[] k = [2, 0, 1];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
            {
                float s = sigma.Data[i], xi = x.Data[i * 4 + j];
                float expected = 3.5f * RecordingDenoiser.Value(s, xi, k[i], hi.Data[i]) - 2.5f * RecordingDenoiser.Value(s, xi, k[i], 0.2f);
                d.Data[i * 4 + j].Should().BeApproximately(expected, 1e-3f);
            }
    }

    [Fact]
    public void DefaultsAndRefusals()
    {
        var fake = new RecordingDenoiser();
        var x = Tensor.Ones(1, 1, 1, 1);
        var labels = Cedm.Nn.OneHot.FromIds([1], 3);
        new CoherenceGuidedDenoiser(fake, 1).Denoise(x, Tensor.Ones(1), new Conditioning(labels)).Data[0]
            .Should().BeApproximately(2 * (1 + 20 + 100) - (1 + 20), 1e-4f, "c_hi defaults to 1, c_lo to 0");
        new CoherenceGuidedDenoiser(fake, 0).Denoise(x, Tensor.Ones(1), new Conditioning(labels, Tensor.Full(0.5f, 1))).Data[0]
            .Should().Be(71f, "w = 0 is unguided");
        FluentActions.Invoking(() => new CoherenceGuidedDenoiser(new RecordingDenoiser(coherent: false), 1)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new CoherenceGuidedDenoiser(fake, 1, 1.5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new CoherenceGuidedDenoiser(fake, -1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void PlainGuidancePairsTheNullConditionWithZeroCoherence()
    {
        var fake = new RecordingDenoiser();
        var labels = Cedm.Nn.OneHot.FromIds([0, 2], 3);
        var d = new GuidedDenoiser(fake, 1).Denoise(Tensor.Zeros(2, 1, 1, 1), Tensor.Ones(2), new Conditioning(labels, new Tensor([0.5f, 1f], 2)));
        fake.Calls.Single().Coherence.Should().Equal(0.5f, 1f, 0f, 0f);
        d.Data.Should().Equal(2 * (10 + 50) - 0, 2 * (30 + 100) - 0);
    }

    [Fact]
    public void TheSamplerAppliesItAtEveryNetworkEvaluation()
    {
        var fake = new RecordingDenoiser();
        var sampler = new EdmSampler(fake, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 3, Coherence = 0.8, CoherenceGuidance = 2, CoherenceLow = 0.1, BatchSize = 4 });
        sampler.Sample([0, 1], 1, 2, 2, ConditionDraw.Fixed(1, 3));
        fake.Calls.Should().HaveCount(sampler.Nfe).And.OnlyContain(c => c.Rows == 4 && c.Coherence!.SequenceEqual(new[] { 0.8f, 0.8f, 0.1f, 0.1f }));

        var plain = new RecordingDenoiser();
        new EdmSampler(plain, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 2, Coherence = 0.3 }).Sample([0], 1, 2, 2, ConditionDraw.Fixed(0, 3));
        plain.Calls.Should().OnlyContain(c => c.Rows == 1 && c.Coherence!.Single() == 0.3f, "the requested c reaches every evaluation");

        var old = new RecordingDenoiser(coherent: false);
        new EdmSampler(old, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 2 }).Sample([0], 1, 2, 2, ConditionDraw.Fixed(0, 3));
        old.Calls.Should().OnlyContain(c => c.Coherence == null, "models without coherence get none");
        FluentActions.Invoking(() => new EdmSampler(old, new SamplerOptions { CoherenceGuidance = 1 })).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new EdmSampler(fake, new SamplerOptions { CoherenceGuidance = 1, Guidance = 1 })).Should().Throw<ArgumentException>();
    }
}
