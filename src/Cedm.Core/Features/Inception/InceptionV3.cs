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

    public InceptionV3(PretrainedWeights checkpoint)
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

    public static InceptionV3 Load(string path) => new(PretrainedWeights.Load(path, "Conv2d_1a_3x3.conv.weight"));

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

    /// <summary>
    /// The pytorch-fid state-dict layout (torchvision Inception3 channel counts, 1008-class fc, no aux head, without
    /// the optional num_batches_tracked counters): every key with its shape. <paramref name="divisor"/> divides every
    /// width (tests use 16). For tests, benchmarks and converters; loading does not need it (shapes come from the file).
    /// </summary>
    public static IEnumerable<(string Key, int[] Shape)> TensorLayout(int divisor = 1, int classes = 1008)
    {
        int s = divisor;
        var list = new List<(string, int[])>();
        void Conv(string name, int cin, int cout, int kh, int kw)
        {
            list.Add(($"{name}.conv.weight", [cout, cin, kh, kw]));
            foreach (var p in new[] { "weight", "bias", "running_mean", "running_var" }) list.Add(($"{name}.bn.{p}", [cout]));
        }
        Conv("Conv2d_1a_3x3", 3, 32 / s, 3, 3);
        Conv("Conv2d_2a_3x3", 32 / s, 32 / s, 3, 3);
        Conv("Conv2d_2b_3x3", 32 / s, 64 / s, 3, 3);
        Conv("Conv2d_3b_1x1", 64 / s, 80 / s, 1, 1);
        Conv("Conv2d_4a_3x3", 80 / s, 192 / s, 3, 3);
        foreach (var (n, cin, pool) in new[] { ("Mixed_5b", 192, 32), ("Mixed_5c", 256, 64), ("Mixed_5d", 288, 64) })
        {
            Conv($"{n}.branch1x1", cin / s, 64 / s, 1, 1);
            Conv($"{n}.branch5x5_1", cin / s, 48 / s, 1, 1);
            Conv($"{n}.branch5x5_2", 48 / s, 64 / s, 5, 5);
            Conv($"{n}.branch3x3dbl_1", cin / s, 64 / s, 1, 1);
            Conv($"{n}.branch3x3dbl_2", 64 / s, 96 / s, 3, 3);
            Conv($"{n}.branch3x3dbl_3", 96 / s, 96 / s, 3, 3);
            Conv($"{n}.branch_pool", cin / s, pool / s, 1, 1);
        }
        Conv("Mixed_6a.branch3x3", 288 / s, 384 / s, 3, 3);
        Conv("Mixed_6a.branch3x3dbl_1", 288 / s, 64 / s, 1, 1);
        Conv("Mixed_6a.branch3x3dbl_2", 64 / s, 96 / s, 3, 3);
        Conv("Mixed_6a.branch3x3dbl_3", 96 / s, 96 / s, 3, 3);
        foreach (var (n, c7) in new[] { ("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192) })
        {
            int c = c7 / s, cin = 768 / s;
            Conv($"{n}.branch1x1", cin, 192 / s, 1, 1);
            Conv($"{n}.branch7x7_1", cin, c, 1, 1);
            Conv($"{n}.branch7x7_2", c, c, 1, 7);
            Conv($"{n}.branch7x7_3", c, 192 / s, 7, 1);
            Conv($"{n}.branch7x7dbl_1", cin, c, 1, 1);
            Conv($"{n}.branch7x7dbl_2", c, c, 7, 1);
            Conv($"{n}.branch7x7dbl_3", c, c, 1, 7);
            Conv($"{n}.branch7x7dbl_4", c, c, 7, 1);
            Conv($"{n}.branch7x7dbl_5", c, 192 / s, 1, 7);
            Conv($"{n}.branch_pool", cin, 192 / s, 1, 1);
        }
        Conv("Mixed_7a.branch3x3_1", 768 / s, 192 / s, 1, 1);
        Conv("Mixed_7a.branch3x3_2", 192 / s, 320 / s, 3, 3);
        Conv("Mixed_7a.branch7x7x3_1", 768 / s, 192 / s, 1, 1);
        Conv("Mixed_7a.branch7x7x3_2", 192 / s, 192 / s, 1, 7);
        Conv("Mixed_7a.branch7x7x3_3", 192 / s, 192 / s, 7, 1);
        Conv("Mixed_7a.branch7x7x3_4", 192 / s, 192 / s, 3, 3);
        foreach (var (n, cin) in new[] { ("Mixed_7b", 1280), ("Mixed_7c", 2048) })
        {
            Conv($"{n}.branch1x1", cin / s, 320 / s, 1, 1);
            Conv($"{n}.branch3x3_1", cin / s, 384 / s, 1, 1);
            Conv($"{n}.branch3x3_2a", 384 / s, 384 / s, 1, 3);
            Conv($"{n}.branch3x3_2b", 384 / s, 384 / s, 3, 1);
            Conv($"{n}.branch3x3dbl_1", cin / s, 448 / s, 1, 1);
            Conv($"{n}.branch3x3dbl_2", 448 / s, 384 / s, 3, 3);
            Conv($"{n}.branch3x3dbl_3a", 384 / s, 384 / s, 1, 3);
            Conv($"{n}.branch3x3dbl_3b", 384 / s, 384 / s, 3, 1);
            Conv($"{n}.branch_pool", cin / s, 192 / s, 1, 1);
        }
        list.Add(("fc.weight", [classes, 2048 / s]));
        list.Add(("fc.bias", [classes]));
        return list;
    }
}
