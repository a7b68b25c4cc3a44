using Cedm.Tensors;

namespace Cedm.Features.Ssl;

/// <summary>
/// SimCLR's NT-Xent loss (Chen et al. 2020, eq. 1): for 2B projections where rows i and i + B are two views of the
/// same image, ℓ(i) = −log( exp(s(i,j)/τ) / Σ_{k≠i} exp(s(i,k)/τ) ) with s the cosine similarity and j the partner of
/// i, averaged over all 2B rows. Built from differentiable ops (L2 normalise, matmul, log-softmax cross-entropy),
/// the self-similarity excluded by a −1e9 additive mask on the diagonal.
/// </summary>
public static class NtXent
{
    private const float MaskValue = -1e9f;

    public static Tensor Loss(Tensor z, double temperature)
    {
        if (z.Rank != 2 || z.Dim(0) % 2 != 0 || z.Dim(0) < 2)
            throw new ArgumentException($"NT-Xent expects [2B, P] projections, got {Shapes.Format(z.Shape)}.");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be positive");
        int n = z.Dim(0), b = n / 2;
        var zn = z.L2Normalize();
        var logits = Tensor.MatMul(zn, zn, transB: true) * (float)(1 / temperature);
        var mask = new float[n * n];
        for (int i = 0; i < n; i++) mask[i * n + i] = MaskValue;
        logits = logits + new Tensor(mask, [n, n]);
        var targets = new int[n];
        for (int i = 0; i < n; i++) targets[i] = i < b ? i + b : i - b;
        return Tensor.CrossEntropy(logits, targets);
    }
}
