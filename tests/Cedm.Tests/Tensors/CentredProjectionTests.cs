using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Tensors;

/// <summary>The GEMM path of the centred projection against its double-precision reference and hand values.</summary>
public sealed class CentredProjectionTests
{
    [Fact]
    public void TheGemmPathAgreesWithTheReferenceAcrossChunks()
    {
        // 9 000 rows cross the 8 192-row chunk boundary; D = 37, d = 5 exercise ragged GEMM edges.
        var rng = new Rng(11);
        int rows = 9000, dIn = 37, dOut = 5;
        var x = Enumerable.Range(0, rows * dIn).Select(_ => (float)(3 + 2 * rng.NextNormal())).ToArray();
        var mean = Enumerable.Range(0, dIn).Select(_ => (float)(3 + rng.NextNormal())).ToArray();
        var p = Enumerable.Range(0, dOut * dIn).Select(_ => (float)rng.NextNormal()).ToArray();
        var fast = CentredProjection.Apply(x, rows, mean, p);
        var reference = CentredProjection.ApplyReference(x, rows, mean, p);
        fast.Should().HaveCount(rows * dOut);
        double worst = fast.Zip(reference, (a, b) => Math.Abs(a - b) / Math.Max(1, Math.Abs(b))).Max();
        worst.Should().BeLessThan(2e-5, "float GEMM sums of 37 products against double sums");
    }

    [Fact]
    public void HandValuesAndShapeErrors()
    {
        float[] x = [1, 2, 3, 4], mean = [1, 1], p = [1, 0, 1, -1];   // rows (1,2), (3,4); P rows (1,0), (1,−1)
        CentredProjection.ApplyReference(x, 2, mean, p).Should().Equal(0f, -1f, 2f, -1f);
        CentredProjection.Apply(x, 2, mean, p).Should().Equal(0f, -1f, 2f, -1f);
        FluentActions.Invoking(() => CentredProjection.Apply(x, 3, mean, p)).Should().Throw<ArgumentException>().WithMessage("*3x2*");
        FluentActions.Invoking(() => CentredProjection.ApplyReference(x, 2, mean, [1, 2, 3])).Should().Throw<ArgumentException>().WithMessage("*projection*");
    }
}
