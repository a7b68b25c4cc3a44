using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Matrix products through Gemm (OpenBLAS or the managed kernel): plain, batched, and the linear layer.
public sealed partial class Tensor
{
    /// <summary>
    /// op(a) @ op(b) where op transposes the last two dims when asked. a: [m,k] or [B,m,k]; b: [k,n] or [B,k,n];
    /// a 2-D operand is shared by every batch. Result: [m,n] or [B,m,n].
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        if (a.Rank is < 2 or > 3 || b.Rank is < 2 or > 3)
            throw new ArgumentException($"MatMul takes rank-2 or rank-3 operands, got {Shapes.Format(a._shape)} and {Shapes.Format(b._shape)}.");
        int batchA = a.Rank == 3 ? a._shape[0] : 0, batchB = b.Rank == 3 ? b._shape[0] : 0;
        if (batchA != 0 && batchB != 0 && batchA != batchB)
            throw new ArgumentException($"MatMul batch sizes differ: {Shapes.Format(a._shape)} and {Shapes.Format(b._shape)}.");
        int batch = Math.Max(batchA, batchB);
        int m = transA ? a._shape[^1] : a._shape[^2], ka = transA ? a._shape[^2] : a._shape[^1];
        int kb = transB ? b._shape[^1] : b._shape[^2], n = transB ? b._shape[^2] : b._shape[^1];
        if (ka != kb)
            throw new ArgumentException($"MatMul inner dimensions differ: {Shapes.Format(a._shape)}{(transA ? "ᵀ" : "")} @ {Shapes.Format(b._shape)}{(transB ? "ᵀ" : "")} ({ka} vs {kb}).");
        var y = batch == 0 ? Uninitialized([m, n]) : Uninitialized([batch, m, n]);
        BatchedGemm(a, transA, b, transB, y, Math.Max(batch, 1), m, n, ka, accumulate: false);
        return y.Record("matmul", [a, b], g =>
        {
            // C = op(A)·op(B): d op(A) = G·op(B)ᵀ and d op(B) = op(A)ᵀ·G, written so no transpose is materialised.
            if (a.RequiresGrad)
            {
                var ga = Zeros(a._shape);
                if (!transA) BatchedGemm(g, false, b, !transB, ga, Math.Max(batch, 1), m, ka, n, accumulate: true);
                else BatchedGemm(b, transB, g, true, ga, Math.Max(batch, 1), ka, m, n, accumulate: true);
                a.AccumulateGrad(ga, owned: true);
            }
            if (b.RequiresGrad)
            {
                var gb = Zeros(b._shape);
                if (!transB) BatchedGemm(a, !transA, g, false, gb, Math.Max(batch, 1), ka, n, m, accumulate: true);
                else BatchedGemm(g, true, a, transA, gb, Math.Max(batch, 1), n, ka, m, accumulate: true);
                b.AccumulateGrad(gb, owned: true);
            }
        });
    }

    /// <summary>
    /// For each batch i: c_i (+)= op(a_i)·op(b_i). An operand of rank 2 is shared by all batches; when the output
    /// is rank 2 while the batch count is above 1 (a weight gradient) the products are summed into it.
    /// </summary>
    private static void BatchedGemm(Tensor a, bool transA, Tensor b, bool transB, Tensor c, int batch, int m, int n, int k, bool accumulate)
    {
        int strideA = a.Rank == 3 ? m * k : 0, strideB = b.Rank == 3 ? k * n : 0, strideC = c.Rank == 3 ? m * n : 0;
        int lda = transA ? m : k, ldb = transB ? k : n;
        for (int i = 0; i < batch; i++)
        {
            float beta = accumulate || (strideC == 0 && i > 0) ? 1f : 0f;
            Gemm.Sgemm(transA, transB, m, n, k, 1f,
                a._data.AsSpan(i * strideA, m * k), lda,
                b._data.AsSpan(i * strideB, k * n), ldb,
                beta, c._data.AsSpan(i * strideC, m * n), n);
        }
    }

    /// <summary>
    /// The linear layer y = x·Wᵀ + b over the last axis: x [..., in], weight [out, in], bias [out] or null.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        weight.RequireRank(2, "Linear weight");
        int outF = weight._shape[0], inF = weight._shape[1];
        if (x.Rank < 1 || x._shape[^1] != inF)
            throw new ArgumentException($"Linear: input {Shapes.Format(x._shape)} does not end in in_features={inF} of weight {Shapes.Format(weight._shape)}.");
        if (bias != null && (bias.Rank != 1 || bias._shape[0] != outF))
            throw new ArgumentException($"Linear: bias {Shapes.Format(bias._shape)} should be [{outF}].");
        int rows = x.Size / Math.Max(1, inF);
        var outShape = x.ShapeArray(); outShape[^1] = outF;
        var y = Uninitialized(outShape);
        float beta = 0f;
        if (bias != null)
        {
            // Fused bias: start C from the bias rows and let GEMM accumulate onto it.
            for (int r = 0; r < rows; r++) bias._data.CopyTo(y._data, r * outF);
            beta = 1f;
        }
        Gemm.Sgemm(false, true, rows, outF, inF, 1f, x._data, inF, weight._data, inF, beta, y._data, outF);
        Tensor[] inputs = bias == null ? [x, weight] : [x, weight, bias];
        return y.Record("linear", inputs, g =>
        {
            if (x.RequiresGrad)
            {
                var gx = Uninitialized(x._shape); // dx = G·W
                Gemm.Sgemm(false, false, rows, inF, outF, 1f, g._data, outF, weight._data, inF, 0f, gx._data, inF);
                x.AccumulateGrad(gx, owned: true);
            }
            if (weight.RequiresGrad)
            {
                var gw = Uninitialized(weight._shape); // dW = Gᵀ·x
                Gemm.Sgemm(true, false, outF, inF, rows, 1f, g._data, outF, x._data, inF, 0f, gw._data, inF);
                weight.AccumulateGrad(gw, owned: true);
            }
            if (bias != null && bias.RequiresGrad)
                bias.AccumulateGrad(new Tensor(Broadcasting.SumTo(g._data, [rows, outF], [outF]), outF), owned: true);
        });
    }
}
