namespace Cedm.Tensors.Kernels;

/// <summary>
/// Shape of one 2-D convolution: input [N, Cin, H, W], weight [Cout, Cin, Kh, Kw], zero padding PadH/PadW on
/// both sides, strides StrideH/StrideW. Output [N, Cout, OutH, OutW] with OutH = floor((H + 2·PadH − Kh)/StrideH) + 1.
/// Kernels trust it; <see cref="Tensor.Conv2d(Tensor, Tensor, Tensor?, int, int, int, int)"/> validates it.
/// </summary>
internal readonly record struct Conv2dGeometry(
    int N, int Cin, int H, int W, int Cout, int Kh, int Kw, int StrideH, int StrideW, int PadH, int PadW)
{
    public int OutH => (H + 2 * PadH - Kh) / StrideH + 1;
    public int OutW => (W + 2 * PadW - Kw) / StrideW + 1;

    /// <summary>Pixels per input channel plane.</summary>
    public int InPixels => H * W;

    /// <summary>Pixels per output channel plane (the GEMM "n" of one sample).</summary>
    public int OutPixels => OutH * OutW;

    /// <summary>Rows of the im2col matrix = the GEMM inner dimension: Cin·Kh·Kw.</summary>
    public int ColRows => Cin * Kh * Kw;

    /// <summary>A 1×1, stride-1, unpadded conv reads each pixel once: the input plane already is the column matrix.</summary>
    public bool IsPointwise => Kh == 1 && Kw == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0;

    /// <summary>
    /// For stride 1 the input gradient is itself a stride-1 convolution of the output gradient with the
    /// spatially flipped, in/out-swapped kernel and padding K−1−P ("full" correlation); that needs P ≤ K−1.
    /// </summary>
    public bool DataGradAsConv => StrideH == 1 && StrideW == 1 && PadH <= Kh - 1 && PadW <= Kw - 1 && !IsPointwise;

    /// <summary>The geometry of that input-gradient convolution: dY [N, Cout, OutH, OutW] → dX [N, Cin, H, W].</summary>
    public Conv2dGeometry DataGradGeometry() => new(N, Cout, OutH, OutW, Cin, Kh, Kw, 1, 1, Kh - 1 - PadH, Kw - 1 - PadW);

    public override string ToString() =>
        $"conv [{N},{Cin},{H},{W}] * [{Cout},{Cin},{Kh},{Kw}] stride ({StrideH},{StrideW}) pad ({PadH},{PadW}) -> [{N},{Cout},{OutH},{OutW}]";
}
