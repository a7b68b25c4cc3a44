namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// The whitening map of a feature-conditioned run: z = P·(f − m), P = [v_k/√λ_k] the top-d principal directions of the
/// training features (related-seeds B.3 item 1). Stored with the run so features given at sampling time (e.g. of
/// held-out real images) land in the space the network was trained in. Fitted by <c>Cedm.Metrics.FeatureWhitening</c>.
/// </summary>
public sealed class FeatureSpace
{
    public FeatureSpace(float[] mean, float[] projection, double[] eigenvalues)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(projection);
        ArgumentNullException.ThrowIfNull(eigenvalues);
        if (mean.Length == 0 || eigenvalues.Length == 0 || projection.Length != (long)mean.Length * eigenvalues.Length)
            throw new ArgumentException($"whitening arrays do not match: mean {mean.Length}, projection {projection.Length}, eigenvalues {eigenvalues.Length}");
        Mean = mean; Projection = projection; Eigenvalues = eigenvalues;
    }

    public float[] Mean { get; }
    public float[] Projection { get; }
    public double[] Eigenvalues { get; }

    /// <summary>Feature dimension D (what a features file must have).</summary>
    public int InputDimension => Mean.Length;

    /// <summary>Whitened dimension d (the network's condition dimension).</summary>
    public int Dimension => Eigenvalues.Length;

    /// <summary>Rows [N, D] → whitened rows [N, d].</summary>
    public float[] Apply(ReadOnlySpan<float> features, int rows) => Tensors.CentredProjection.ApplyReference(features, rows, Mean, Projection);
}
