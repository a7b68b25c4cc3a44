using Cedm.Features.Networks;
using Cedm.Tensors;

namespace Cedm.Features.Inception;

/// <summary>
/// The FID Inception-v3 (spec §6.1) as pytorch-fid runs it, built from a state dict with the key names of
/// pytorch-fid's <c>pt_inception-2015-12-05</c> weights (torchvision Inception3 naming: <c>Conv2d_1a_3x3.conv.weight</c>,
/// <c>Mixed_5b.branch1x1.bn.running_mean</c>, …). Stem Conv2d_1a…4a with two 3×3/2 max pools, Mixed_5b–5d (A),
/// 6a (B), 6b–6e (C), 7a (D), 7b/7c (E with the FID pooling), then a global average pool: the 2048-d "pool3"
/// features. Channel counts are read from the tensors (so width-scaled test networks load too); the classifier
/// <c>fc.*</c> and BatchNorm counters are ignored. BatchNorm is folded into the convolutions (<see cref="FoldedConv"/>).
/// </summary>
public sealed class InceptionV3
{
    private readonly FoldedConv[] _stemA, _stemB;
    private readonly IInceptionBlock[] _blocks;

    public InceptionV3(Checkpoint checkpoint)
    {
        var ck = checkpoint;
        var c1a = new FoldedConv(ck, "Conv2d_1a_3x3", 3, 3, 3, stride: 2);
        var c2a = new FoldedConv(ck, "Conv2d_2a_3x3", c1a.OutChannels, 3, 3);
        var c2b = FoldedConv.Same(ck, "Conv2d_2b_3x3", c2a.OutChannels, 3, 3);
        _stemA = [c1a, c2a, c2b];
        var c3b = new FoldedConv(ck, "Conv2d_3b_1x1", c2b.OutChannels, 1, 1);
        _stemB = [c3b, new FoldedConv(ck, "Conv2d_4a_3x3", c3b.OutChannels, 3, 3)];
        int c = _stemB[1].OutChannels;
        var blocks = new List<IInceptionBlock>();
        IInceptionBlock Add(IInceptionBlock b) { blocks.Add(b); c = b.OutChannels; return b; }
        foreach (var n in new[] { "Mixed_5b", "Mixed_5c", "Mixed_5d" }) Add(new InceptionA(ck, n, c));
        Add(new InceptionB(ck, "Mixed_6a", c));
        foreach (var n in new[] { "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e" }) Add(new InceptionC(ck, n, c));
        Add(new InceptionD(ck, "Mixed_7a", c));
        Add(new InceptionE(ck, "Mixed_7b", c, maxPool: false));
        Add(new InceptionE(ck, "Mixed_7c", c, maxPool: true));
        _blocks = [.. blocks];
        FeatureDimension = c;
        Source = ck.Source;
        IgnoredKeys = ck.UnusedKeys();
    }

    public static InceptionV3 Load(string path) => new(Checkpoint.Load(path, "Conv2d_1a_3x3.conv.weight"));

    /// <summary>Length of the pool3 feature (2048 for the real network).</summary>
    public int FeatureDimension { get; }

    public string Source { get; }

    /// <summary>Stored tensors the feature path does not use (fc.*, num_batches_tracked, AuxLogits.*).</summary>
    public IReadOnlyList<string> IgnoredKeys { get; }

    /// <summary>x: [N, 3, 299, 299] scaled to [−1, 1] → pool3 features [N, FeatureDimension].</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(1) != 3)
            throw new ArgumentException($"InceptionV3 expects images [N, 3, H, W], got {Shapes.Format(x.Shape)}.");
        foreach (var conv in _stemA) x = conv.Forward(x);
        x = x.MaxPool2d(3, 2);
        foreach (var conv in _stemB) x = conv.Forward(x);
        x = x.MaxPool2d(3, 2);
        foreach (var block in _blocks) x = block.Forward(x);
        return x.Mean([2, 3]);
    }
}
