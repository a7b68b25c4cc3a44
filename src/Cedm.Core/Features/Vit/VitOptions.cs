namespace Cedm.Features.Vit;

/// <summary>How images are resized before the ViT.</summary>
public enum VitResize
{
    /// <summary>From the checkpoint's family: DINO → <see cref="ShortSide"/>, DINOv2 → <see cref="Square"/>.</summary>
    Auto,
    /// <summary>Short side to the resolution, aspect kept (torchvision Resize(R); spec §4.1). 32×32 → 224×224.</summary>
    ShortSide,
    /// <summary>Exactly R×R (torchvision Resize((R, R)); dgm-eval DINOv2, spec §6.2).</summary>
    Square,
}

/// <summary>
/// Options of <see cref="VitFeatures"/>. Defaults follow spec §4.1 (DINO ViT-B/16) and §6.2 (DINOv2 ViT-L/14):
/// Pillow bicubic resize to 224, [0, 1], ImageNet mean/std, CLS after the final norm.
/// </summary>
public sealed record VitOptions
{
    /// <summary>Attention heads; null: the file's num_heads metadata, else the S/B/L/g table (6/12/16/24).</summary>
    public int? Heads { get; init; }

    /// <summary>Target size of the resize (short side or square side).</summary>
    public int Resolution { get; init; } = 224;

    public VitResize Resize { get; init; } = VitResize.Auto;

    /// <summary>Images per forward pass (memory ≈ batch × tokens × 4·D floats per layer for the MLP).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>DINO/DINOv2's interpolate_offset added to the grid before dividing by the trained grid.</summary>
    public double PosEmbedOffset { get; init; } = 0.1;

    public float[] Mean { get; init; } = [0.485f, 0.456f, 0.406f];

    public float[] Std { get; init; } = [0.229f, 0.224f, 0.225f];
}
