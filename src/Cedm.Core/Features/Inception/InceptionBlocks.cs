using Cedm.Features.Networks;
using Cedm.Tensors;

namespace Cedm.Features.Inception;

/// <summary>A Mixed_* block: input [N, InChannels, H, W] → [N, OutChannels, H', W'] (branches concatenated).</summary>
internal interface IInceptionBlock
{
    int OutChannels { get; }
    Tensor Forward(Tensor x);
}

/// <summary>
/// Mixed_5b/5c/5d (pytorch-fid FIDInceptionA): 1×1 | 1×1→5×5 | 1×1→3×3→3×3 | avg-pool 3×3 (count_include_pad=False)→1×1.
/// </summary>
internal sealed class InceptionA : IInceptionBlock
{
    private readonly FoldedConv _b1, _b5a, _b5b, _d1, _d2, _d3, _pool;

    public InceptionA(PretrainedWeights ck, string n, int cin)
    {
        _b1 = new FoldedConv(ck, n + ".branch1x1", cin, 1, 1);
        _b5a = new FoldedConv(ck, n + ".branch5x5_1", cin, 1, 1);
        _b5b = FoldedConv.Same(ck, n + ".branch5x5_2", _b5a.OutChannels, 5, 5);
        _d1 = new FoldedConv(ck, n + ".branch3x3dbl_1", cin, 1, 1);
        _d2 = FoldedConv.Same(ck, n + ".branch3x3dbl_2", _d1.OutChannels, 3, 3);
        _d3 = FoldedConv.Same(ck, n + ".branch3x3dbl_3", _d2.OutChannels, 3, 3);
        _pool = new FoldedConv(ck, n + ".branch_pool", cin, 1, 1);
        OutChannels = _b1.OutChannels + _b5b.OutChannels + _d3.OutChannels + _pool.OutChannels;
    }

    public int OutChannels { get; }

    public Tensor Forward(Tensor x) => Tensor.Concat(1,
        _b1.Forward(x), _b5b.Forward(_b5a.Forward(x)), _d3.Forward(_d2.Forward(_d1.Forward(x))),
        _pool.Forward(x.AvgPool2d(3, 1, 1, countIncludePad: false)));
}

/// <summary>Mixed_6a (InceptionB, grid 35 → 17): 3×3 stride 2 | 1×1→3×3→3×3 stride 2 | max-pool 3×3 stride 2.</summary>
internal sealed class InceptionB : IInceptionBlock
{
    private readonly FoldedConv _b3, _d1, _d2, _d3;

    public InceptionB(PretrainedWeights ck, string n, int cin)
    {
        _b3 = new FoldedConv(ck, n + ".branch3x3", cin, 3, 3, stride: 2);
        _d1 = new FoldedConv(ck, n + ".branch3x3dbl_1", cin, 1, 1);
        _d2 = FoldedConv.Same(ck, n + ".branch3x3dbl_2", _d1.OutChannels, 3, 3);
        _d3 = new FoldedConv(ck, n + ".branch3x3dbl_3", _d2.OutChannels, 3, 3, stride: 2);
        OutChannels = _b3.OutChannels + _d3.OutChannels + cin;
    }

    public int OutChannels { get; }

    public Tensor Forward(Tensor x) => Tensor.Concat(1,
        _b3.Forward(x), _d3.Forward(_d2.Forward(_d1.Forward(x))), x.MaxPool2d(3, 2));
}

/// <summary>
/// Mixed_6b–6e (FIDInceptionC): 1×1 | 1×1→1×7→7×1 | 1×1→7×1→1×7→7×1→1×7 | avg-pool (count_include_pad=False)→1×1.
/// </summary>
internal sealed class InceptionC : IInceptionBlock
{
    private readonly FoldedConv _b1, _pool;
    private readonly FoldedConv[] _b7, _d7;

    public InceptionC(PretrainedWeights ck, string n, int cin)
    {
        _b1 = new FoldedConv(ck, n + ".branch1x1", cin, 1, 1);
        _b7 = Chain(ck, n + ".branch7x7_", cin, [(1, 1), (1, 7), (7, 1)]);
        _d7 = Chain(ck, n + ".branch7x7dbl_", cin, [(1, 1), (7, 1), (1, 7), (7, 1), (1, 7)]);
        _pool = new FoldedConv(ck, n + ".branch_pool", cin, 1, 1);
        OutChannels = _b1.OutChannels + _b7[^1].OutChannels + _d7[^1].OutChannels + _pool.OutChannels;
    }

    public int OutChannels { get; }

    public Tensor Forward(Tensor x) => Tensor.Concat(1,
        _b1.Forward(x), Run(_b7, x), Run(_d7, x), _pool.Forward(x.AvgPool2d(3, 1, 1, countIncludePad: false)));

    /// <summary>Convs prefix1, prefix2, … with "same" padding, each fed by the previous one.</summary>
    internal static FoldedConv[] Chain(PretrainedWeights ck, string prefix, int cin, (int Kh, int Kw)[] kernels)
    {
        var convs = new FoldedConv[kernels.Length];
        for (int i = 0; i < kernels.Length; i++)
        {
            convs[i] = FoldedConv.Same(ck, prefix + (i + 1), cin, kernels[i].Kh, kernels[i].Kw);
            cin = convs[i].OutChannels;
        }
        return convs;
    }

    internal static Tensor Run(FoldedConv[] chain, Tensor x)
    {
        foreach (var c in chain) x = c.Forward(x);
        return x;
    }
}

/// <summary>Mixed_7a (InceptionD, grid 17 → 8): 1×1→3×3 stride 2 | 1×1→1×7→7×1→3×3 stride 2 | max-pool 3×3 stride 2.</summary>
internal sealed class InceptionD : IInceptionBlock
{
    private readonly FoldedConv _b3a, _b3b, _d4;
    private readonly FoldedConv[] _d;

    public InceptionD(PretrainedWeights ck, string n, int cin)
    {
        _b3a = new FoldedConv(ck, n + ".branch3x3_1", cin, 1, 1);
        _b3b = new FoldedConv(ck, n + ".branch3x3_2", _b3a.OutChannels, 3, 3, stride: 2);
        _d = InceptionC.Chain(ck, n + ".branch7x7x3_", cin, [(1, 1), (1, 7), (7, 1)]);
        _d4 = new FoldedConv(ck, n + ".branch7x7x3_4", _d[^1].OutChannels, 3, 3, stride: 2);
        OutChannels = _b3b.OutChannels + _d4.OutChannels + cin;
    }

    public int OutChannels { get; }

    public Tensor Forward(Tensor x) => Tensor.Concat(1,
        _b3b.Forward(_b3a.Forward(x)), _d4.Forward(InceptionC.Run(_d, x)), x.MaxPool2d(3, 2));
}

/// <summary>
/// Mixed_7b / 7c (FIDInceptionE_1 / E_2): 1×1 | 1×1→(1×3, 3×1) | 1×1→3×3→(1×3, 3×1) | pool→1×1, where the pool is an
/// average with count_include_pad=False in 7b and a 3×3 stride-1 max pool in 7c (pytorch-fid's FID variant).
/// </summary>
internal sealed class InceptionE : IInceptionBlock
{
    private readonly FoldedConv _b1, _b3, _b3a, _b3b, _d1, _d2, _d3a, _d3b, _pool;
    private readonly bool _maxPool;

    public InceptionE(PretrainedWeights ck, string n, int cin, bool maxPool)
    {
        _maxPool = maxPool;
        _b1 = new FoldedConv(ck, n + ".branch1x1", cin, 1, 1);
        _b3 = new FoldedConv(ck, n + ".branch3x3_1", cin, 1, 1);
        _b3a = FoldedConv.Same(ck, n + ".branch3x3_2a", _b3.OutChannels, 1, 3);
        _b3b = FoldedConv.Same(ck, n + ".branch3x3_2b", _b3.OutChannels, 3, 1);
        _d1 = new FoldedConv(ck, n + ".branch3x3dbl_1", cin, 1, 1);
        _d2 = FoldedConv.Same(ck, n + ".branch3x3dbl_2", _d1.OutChannels, 3, 3);
        _d3a = FoldedConv.Same(ck, n + ".branch3x3dbl_3a", _d2.OutChannels, 1, 3);
        _d3b = FoldedConv.Same(ck, n + ".branch3x3dbl_3b", _d2.OutChannels, 3, 1);
        _pool = new FoldedConv(ck, n + ".branch_pool", cin, 1, 1);
        OutChannels = _b1.OutChannels + _b3a.OutChannels + _b3b.OutChannels + _d3a.OutChannels + _d3b.OutChannels + _pool.OutChannels;
    }

    public int OutChannels { get; }

    public Tensor Forward(Tensor x)
    {
        var b3 = _b3.Forward(x);
        var d = _d2.Forward(_d1.Forward(x));
        var pooled = _maxPool ? x.MaxPool2d(3, 1, 1) : x.AvgPool2d(3, 1, 1, countIncludePad: false);
        return Tensor.Concat(1, _b1.Forward(x), _b3a.Forward(b3), _b3b.Forward(b3), _d3a.Forward(d), _d3b.Forward(d), _pool.Forward(pooled));
    }
}
