using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Softmax attention: the UNet's multi-head self-attention over spatial positions (spec §2.2) and the
// token-major scaled dot-product attention of ViT-style models. Both are one fused op with their own backward
// (see AttentionKernel), reading q, k, v in place instead of materialising reshaped/permuted copies.
public sealed partial class Tensor
{
    /// <summary>
    /// Multi-head self-attention over the spatial positions of <paramref name="qkv"/> [B, 3·C, H, W] (the output of
    /// the block's 1x1 qkv conv; any trailing spatial dims). Channel layout as the reference
    /// <c>qkv.reshape(B·heads, C/heads, 3, H·W).unbind(2)</c>: for head h and channel c of that head, q, k and v are
    /// channels (h·C/heads + c)·3 + 0, 1, 2. Weights w[i,j] = softmax_j(Σ_c q[c,i]·k[c,j] / sqrt(C/heads)),
    /// output a[c,i] = Σ_j w[i,j]·v[c,j], returned as [B, C, H, W] (channel h·C/heads + c).
    /// </summary>
    public static Tensor SpatialSelfAttention(Tensor qkv, int heads)
    {
        if (qkv.Rank < 3)
            throw new ArgumentException($"SpatialSelfAttention expects qkv of shape [B, 3C, H, W], got {Shapes.Format(qkv._shape)}.");
        int b = qkv._shape[0], c3 = qkv._shape[1];
        if (c3 % 3 != 0 || heads < 1 || c3 / 3 % heads != 0 || c3 == 0)
            throw new ArgumentException($"SpatialSelfAttention: qkv {Shapes.Format(qkv._shape)} needs 3·C channels with C divisible by heads={heads}.");
        int c = c3 / 3, d = c / heads, t = qkv.Size / Math.Max(1, b * c3), bh = b * heads;
        float scale = 1f / MathF.Sqrt(d);
        var outShape = qkv.ShapeArray(); outShape[1] = c;
        var y = Uninitialized(outShape);
        // The [BH, T, T] weights are kept only for a backward; without one (sampling) the kernel reuses a block per worker.
        var weights = WillRecord(qkv) ? GC.AllocateUninitializedArray<float>(bh * t * t) : null;
        AttentionKernel.SpatialForward(qkv._data, y._data, weights, bh, d, t, scale);
        return y.Record("spatial_attention", qkv, g =>
        {
            var gqkv = Uninitialized(qkv._shape);
            AttentionKernel.SpatialBackward(qkv._data, weights!, g._data, gqkv._data, bh, d, t, scale);
            qkv.AccumulateGrad(gqkv, owned: true);
        });
    }

    /// <summary>
    /// softmax(q·kᵀ / sqrt(d))·v for q [B, Tq, d], k [B, Tk, d], v [B, Tk, dv] → [B, Tq, dv].
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v)
    {
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3 || q._shape[0] != k._shape[0] || k._shape[0] != v._shape[0]
            || q._shape[2] != k._shape[2] || k._shape[1] != v._shape[1])
            throw new ArgumentException($"ScaledDotProductAttention expects q [B,Tq,d], k [B,Tk,d], v [B,Tk,dv]; got {Shapes.Format(q._shape)}, {Shapes.Format(k._shape)}, {Shapes.Format(v._shape)}.");
        int b = q._shape[0], tq = q._shape[1], tk = k._shape[1], d = q._shape[2], dv = v._shape[2];
        float scale = 1f / MathF.Sqrt(Math.Max(1, d));
        var y = Uninitialized([b, tq, dv]);
        var weights = WillRecord(q, k, v) ? GC.AllocateUninitializedArray<float>(b * tq * tk) : null;
        AttentionKernel.TokenForward(q._data, k._data, v._data, y._data, weights, b, tq, tk, d, dv, scale);
        return y.Record("sdpa", [q, k, v], g =>
        {
            var gq = q.RequiresGrad ? Uninitialized(q._shape) : null;
            var gk = k.RequiresGrad ? Uninitialized(k._shape) : null;
            var gv = v.RequiresGrad ? Uninitialized(v._shape) : null;
            AttentionKernel.TokenBackward(q._data, k._data, v._data, weights!, g._data, gq?._data, gk?._data, gv?._data, b, tq, tk, d, dv, scale);
            if (gq != null) q.AccumulateGrad(gq, owned: true);
            if (gk != null) k.AccumulateGrad(gk, owned: true);
            if (gv != null) v.AccumulateGrad(gv, owned: true);
        });
    }
}
