using System.Text.Json;
using Cedm.IO;
using Cedm.Tensors;
using Cedm.Tests.Metrics;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>`cedm fd` with .npz statistics, and `cedm eval --ref / --save-ref`.</summary>
public sealed class ReferenceStatisticsCommandTests : CliTest
{
    private string P(string name) => Path.Combine(Dir, name);

    [Fact]
    public void FdAcceptsNumpyStatisticsAndRefusesAnotherDimensionNamingBothFiles()
    {
        string a = ReferenceStatisticsTests.Fixture("a.npy"), b = ReferenceStatisticsTests.Fixture("b.npy");
        var (code, output, err) = Run("fd", a, b, "--json");
        code.Should().Be(0, err);
        double fromFeatures = JsonDocument.Parse(output).RootElement.GetProperty("fd").GetDouble();
        (code, output, err) = Run("fd", ReferenceStatisticsTests.Fixture("a_stats.npz"), b, "--json");
        code.Should().Be(0, err);
        double fromNpz = JsonDocument.Parse(output).RootElement.GetProperty("fd").GetDouble();
        Math.Abs(fromNpz - fromFeatures).Should().BeLessThan(1e-6 * fromFeatures);

        string wrong = ReferenceStatisticsTests.Fixture("wrong_dim.npz");
        (code, _, err) = Run("fd", wrong, b);
        code.Should().Be(2);
        err.Should().Contain(wrong).And.Contain(b).And.Contain("D = 4").And.Contain("D = 6");
    }

    [Fact]
    public void EvalSavesItsReferenceAndMeasuresAgainstAGivenOne()
    {
        var rng = new Rng(3);
        byte[] Images(int n, int offset)
        {
            var px = new byte[n * 64];
            for (int i = 0; i < px.Length; i++) px[i] = (byte)Math.Clamp(offset + 100 + 40 * rng.NextNormal(), 0, 255);
            return px;
        }
        Npy.Write(P("real.npy"), Images(120, 0), 120, 8, 8);
        Npy.Write(P("s.npy"), Images(80, 20), 80, 8, 8);
        string[] common = ["--evaluator", "pixels", "--kid-subsets", "5", "--kid-subset-size", "50", "--no-cache", "--json"];
        var (code, output, err) = Run(["eval", $"npy:{P("real.npy")}", P("s.npy"), "--out", P("m1.json"), "--save-ref", P("ref.npz"), .. common]);
        code.Should().Be(0, err);
        var m1 = JsonDocument.Parse(output).RootElement;
        m1.GetProperty("saved_ref").GetString().Should().Be(P("ref.npz"));
        var saved = Npz.Read(P("ref.npz"));
        saved["mu"].Shape.Should().Equal(64);
        saved["sigma"].DType.Should().Be(DType.F64);

        // A reference whose mean is moved by 3 in every pixel dimension adds 64 * 9 - 2 * 3 * sum(mu_s - mu_r) to FD.
        double[] mu = saved["mu"].ToFloat64();
        Npz.Write(P("moved.npz"), [("mu", new NpyArray(DType.F64, [64], mu.Select(v => v + 3).ToArray())), ("sigma", saved["sigma"])]);
        (code, output, err) = Run(["eval", $"npy:{P("real.npy")}", P("s.npy"), "--out", P("m2.json"), "--ref", P("moved.npz"), .. common]);
        code.Should().Be(0, err);
        var m2 = JsonDocument.Parse(output).RootElement;
        double fdReal = m2.GetProperty("fd_real").GetDouble();
        fdReal.Should().BeApproximately(m1.GetProperty("fd").GetDouble(), 1e-9 * fdReal);
        (code, output, _) = Run(["eval", $"npy:{P("real.npy")}", P("s.npy"), "--out", P("m3.json"), "--ref", P("ref.npz"), .. common]);
        JsonDocument.Parse(output).RootElement.GetProperty("fd").GetDouble().Should().BeApproximately(fdReal, 1e-9 * fdReal, "its own saved reference gives its own FD");
        m2.GetProperty("fd").GetDouble().Should().NotBeApproximately(fdReal, 1.0, "the FD is measured against --ref");

        string wrong = ReferenceStatisticsTests.Fixture("wrong_dim.npz");
        (code, _, err) = Run(["eval", $"npy:{P("real.npy")}", P("s.npy"), "--out", P("m4.json"), "--ref", wrong, .. common]);
        code.Should().Be(2);
        err.Should().Contain(wrong).And.Contain(P("s.npy")).And.Contain("D = 4").And.Contain("D = 64");
    }
}
