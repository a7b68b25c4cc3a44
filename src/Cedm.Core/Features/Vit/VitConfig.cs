using System.Globalization;
using Cedm.Features.Networks;

namespace Cedm.Features.Vit;

/// <summary>Which release a checkpoint follows; sets the default preprocessing.</summary>
public enum VitFamily
{
    /// <summary>facebookresearch/dino: no LayerScale; images resized by the short side (spec §4.1).</summary>
    Dino,
    /// <summary>facebookresearch/dinov2: LayerScale (ls1/ls2), mask token, optional registers; images resized to R×R (spec §6.2).</summary>
    Dinov2,
}

/// <summary>
/// The shape of a DINO / DINOv2 Vision Transformer, inferred from a checkpoint's tensors: embed dim from
/// <c>cls_token</c>, patch size from <c>patch_embed.proj.weight</c>, depth from the number of <c>blocks.N</c>,
/// trained grid from <c>pos_embed</c>, LayerScale/registers/mask token from their keys. The head count is not
/// stored in the tensors: it comes from an explicit value, the file's <c>num_heads</c> metadata, or the
/// standard table (<see cref="StandardHeads"/>).
/// </summary>
public sealed record VitConfig(int EmbedDim, int Depth, int Heads, int PatchSize, int PosGrid, int MlpHidden,
    bool LayerScale, int RegisterTokens, bool MaskToken)
{
    public VitFamily Family => LayerScale || MaskToken || RegisterTokens > 0 ? VitFamily.Dinov2 : VitFamily.Dino;

    /// <summary>Heads of the released sizes: S (384) 6, B (768) 12, L (1024) 16, g (1536) 24 — 64 dims per head.</summary>
    public static int? StandardHeads(int embedDim) => embedDim switch
    {
        384 => 6,
        768 => 12,
        1024 => 16,
        1536 => 24,
        _ => null,
    };

    /// <summary>ViT-S/16 as released by DINO (dino_vits16).</summary>
    public static VitConfig DinoS16 => new(384, 12, 6, 16, 14, 1536, false, 0, false);

    /// <summary>ViT-B/16 as released by DINO (dino_vitb16, spec §4.1).</summary>
    public static VitConfig DinoB16 => new(768, 12, 12, 16, 14, 3072, false, 0, false);

    /// <summary>ViT-L/14 as released by DINOv2 (dinov2_vitl14, spec §6.2): trained grid 37 (518 px), LayerScale, mask token.</summary>
    public static VitConfig Dinov2L14 => new(1024, 24, 16, 14, 37, 4096, true, 0, true);

    public static VitConfig Infer(PretrainedWeights ck, int? heads = null)
    {
        var cls = ck.Require("cls_token", 1, 1, -1);
        int d = cls.Dim(2);
        var proj = ck.Require("patch_embed.proj.weight", d, 3, -1, -1);
        int p = proj.Dim(2);
        if (proj.Dim(3) != p)
            throw new InvalidDataException($"{ck.Source}: '{ck.Prefix}patch_embed.proj.weight' has a non-square {proj.Dim(2)}x{proj.Dim(3)} patch.");
        var pos = ck.Require("pos_embed", 1, -1, d);
        int n = pos.Dim(1) - 1, m = (int)Math.Round(Math.Sqrt(Math.Max(n, 0)));
        if (n < 1 || m * m != n)
            throw new InvalidDataException($"{ck.Source}: '{ck.Prefix}pos_embed' has {n} patch positions, not a square grid.");
        int depth = 0;
        while (ck.Has($"blocks.{depth}.norm1.weight")) depth++;
        if (depth == 0)
        {
            string hint = ck.KeysStartingWith("blocks.").Any(k => k.Split('.') is [_, _, var third, ..] && int.TryParse(third, out _))
                ? " (the blocks are chunked as blocks.<chunk>.<i>; export with block_chunks=0)" : "";
            throw new InvalidDataException($"{ck.Source}: missing tensor '{ck.Prefix}blocks.0.norm1.weight'{hint}.");
        }
        if (ck.Has("blocks.0.mlp.w12.weight"))
            throw new NotSupportedException($"{ck.Source}: SwiGLU MLP blocks (blocks.N.mlp.w12, as in DINOv2 ViT-g) are not supported; use a ViT-S/B/L checkpoint.");
        int hidden = ck.Require("blocks.0.mlp.fc1.weight", -1, d).Dim(0);
        bool ls = ck.Has("blocks.0.ls1.gamma");
        var reg = ck.Optional("register_tokens", 1, -1, d);
        int h = heads ?? MetadataHeads(ck) ?? StandardHeads(d)
            ?? throw new InvalidDataException($"{ck.Source}: embed dim {d} is not a released ViT size (384/768/1024/1536); pass the head count explicitly.");
        if (h < 1 || d % h != 0)
            throw new ArgumentException($"{ck.Source}: {h} heads do not divide embed dim {d}.");
        return new VitConfig(d, depth, h, p, m, hidden, ls, reg?.Dim(1) ?? 0, ck.Has("mask_token"));
    }

    private static int? MetadataHeads(PretrainedWeights ck) =>
        ck.Metadata.TryGetValue("num_heads", out var s) && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int h) ? h : null;

    /// <summary>
    /// Every tensor this layout reads, with its shape, in checkpoint naming (the DINO/DINOv2 releases).
    /// The mask token is listed when present (it is stored but unused for feature extraction).
    /// </summary>
    public IEnumerable<(string Key, int[] Shape)> TensorLayout()
    {
        int d = EmbedDim;
        yield return ("cls_token", [1, 1, d]);
        yield return ("pos_embed", [1, 1 + PosGrid * PosGrid, d]);
        if (RegisterTokens > 0) yield return ("register_tokens", [1, RegisterTokens, d]);
        if (MaskToken) yield return ("mask_token", [1, d]);
        yield return ("patch_embed.proj.weight", [d, 3, PatchSize, PatchSize]);
        yield return ("patch_embed.proj.bias", [d]);
        for (int i = 0; i < Depth; i++)
        {
            string b = $"blocks.{i}.";
            yield return (b + "norm1.weight", [d]);
            yield return (b + "norm1.bias", [d]);
            yield return (b + "attn.qkv.weight", [3 * d, d]);
            yield return (b + "attn.qkv.bias", [3 * d]);
            yield return (b + "attn.proj.weight", [d, d]);
            yield return (b + "attn.proj.bias", [d]);
            if (LayerScale) yield return (b + "ls1.gamma", [d]);
            yield return (b + "norm2.weight", [d]);
            yield return (b + "norm2.bias", [d]);
            yield return (b + "mlp.fc1.weight", [MlpHidden, d]);
            yield return (b + "mlp.fc1.bias", [MlpHidden]);
            yield return (b + "mlp.fc2.weight", [d, MlpHidden]);
            yield return (b + "mlp.fc2.bias", [d]);
            if (LayerScale) yield return (b + "ls2.gamma", [d]);
        }
        yield return ("norm.weight", [d]);
        yield return ("norm.bias", [d]);
    }

    /// <summary>Total number of stored parameters of <see cref="TensorLayout"/>.</summary>
    public long ParameterCount() => TensorLayout().Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
}
