using Cedm.Tensors;

namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// The continuous condition of every training image (related-seeds B.3 item 2): its own whitened feature ("own"),
/// its cluster's mean ("centroid") or a fresh draw N(μ_k, s²Σ_k) ("draw", the only mode that consumes random
/// numbers: r + d normals from the trainer's generator per undropped image).
/// </summary>
public sealed class FeatureSource
{
    /// <param name="own">Whitened features [N, d] (needed by "own"; may be null otherwise).</param>
    /// <param name="components">Mixture component of every image [N] (its compacted cluster; all 0 for an oracle run).</param>
    public FeatureSource(string mode, FeatureMixture mixture, float[]? own, int[] components, double temperature)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        ArgumentNullException.ThrowIfNull(components);
        if (!FeatureConditionOptions.Modes.Contains(mode)) throw new ArgumentException($"unknown mode '{mode}'", nameof(mode));
        if (mode == "own" && own == null) throw new ArgumentException("the own mode needs each image's features", nameof(own));
        if (own != null && own.Length != (long)components.Length * mixture.Dimension)
            throw new ArgumentException($"{own.Length} feature values for {components.Length} images of dimension {mixture.Dimension}", nameof(own));
        if (components.Any(c => (uint)c >= (uint)mixture.K)) throw new ArgumentException($"component ids must lie in [0, {mixture.K})", nameof(components));
        Mode = mode; Mixture = mixture; Own = own; Components = components; Temperature = temperature;
    }

    public string Mode { get; }
    public FeatureMixture Mixture { get; }
    public float[]? Own { get; }
    public int[] Components { get; }
    public double Temperature { get; }
    public int Dimension => Mixture.Dimension;
    public int Count => Components.Length;

    /// <summary>Writes image <paramref name="index"/>'s condition into <paramref name="dest"/> (length d).</summary>
    public void Fill(int index, Rng rng, Span<float> dest)
    {
        int d = Dimension;
        switch (Mode)
        {
            case "own": Own.AsSpan(index * d, d).CopyTo(dest); break;
            case "centroid": Mixture.Mean(Components[index], dest); break;
            default: Mixture.Draw(Components[index], Temperature, rng, dest); break;
        }
    }
}
