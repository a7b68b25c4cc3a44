namespace Cedm.Tensors;

// Hand-written forward and backward of two ops TreeVAE runs on every leaf of every batch (related-seeds A.1, A.5):
// built from generic element-wise ops they took most of a training step (BatchNorm [256, 512]: 10 ms forward,
// 22 ms backward; BCE [256, 784]: 43 + 28 ms, against 2–3 ms for the layer's GEMM). The composite forms stay as the
// references they are tested against (BatchNormReference, BinaryCrossEntropySum).
public sealed partial class Tensor
{
    /// <summary>
    /// Batch normalisation in training mode, as <see cref="BatchNormReference"/> computes it (statistics over every
    /// axis but 1, biased variance, then γ, β), in one pass per channel: forward y = γ·x̂ + β with x̂ = (x − μ)·r,
    /// r = 1/√(σ² + eps); backward dx = (γ·r/M)·(M·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy (M values per channel).
    /// </summary>
    public static (Tensor Y, float[] Mean, float[] Var) BatchNorm(Tensor x, Tensor? gamma, Tensor? beta, float eps = 1e-5f)
    {
        if (x.Rank < 2) throw new ArgumentException($"BatchNorm expects [N, C, …], got {Shapes.Format(x.Shape)}.");
        int n = x.Dim(0), c = x.Dim(1), inner = x.Size / (n * c);
        long m = (long)n * inner;
        if (gamma != null && gamma.Size != c) throw new ArgumentException($"BatchNorm γ has {gamma.Size} values for {c} channels.");
        if (beta != null && beta.Size != c) throw new ArgumentException($"BatchNorm β has {beta.Size} values for {c} channels.");
        var xs = x._data;
        var mean = new double[c];
        var variance = new double[c];
        // Per channel c the values are x[i, c, j] at (i·C + c)·inner + j.
        System.Threading.Tasks.Parallel.For(0, c, EnginePolicy.Current.ParallelOptions, ch =>
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                int o = (i * c + ch) * inner;
                for (int j = 0; j < inner; j++) sum += xs[o + j];
            }
            double mu = sum / m, sq = 0;
            for (int i = 0; i < n; i++)
            {
                int o = (i * c + ch) * inner;
                for (int j = 0; j < inner; j++) { double d = xs[o + j] - mu; sq += d * d; }
            }
            mean[ch] = mu;
            variance[ch] = sq / m;
        });
        var rstd = new float[c];
        var g = gamma?._data;
        var b = beta?._data;
        for (int ch = 0; ch < c; ch++) rstd[ch] = (float)(1.0 / Math.Sqrt(variance[ch] + eps));
        var normalised = new float[xs.Length];
        var y = Uninitialized(x._shape);
        var ys = y._data;
        System.Threading.Tasks.Parallel.For(0, n, EnginePolicy.Current.ParallelOptions, i =>
        {
            for (int ch = 0; ch < c; ch++)
            {
                int o = (i * c + ch) * inner;
                float mu = (float)mean[ch], r = rstd[ch], scale = g?[ch] ?? 1f, shift = b?[ch] ?? 0f;
                for (int j = 0; j < inner; j++)
                {
                    float h = (xs[o + j] - mu) * r;
                    normalised[o + j] = h;
                    ys[o + j] = h * scale + shift;
                }
            }
        });
        Tensor[] inputs = [x, .. gamma is null ? Array.Empty<Tensor>() : [gamma], .. beta is null ? Array.Empty<Tensor>() : [beta]];
        y.Record("batch_norm", inputs, dy =>
        {
            var d = dy._data;
            var sumDy = new double[c];
            var sumDyH = new double[c];
            System.Threading.Tasks.Parallel.For(0, c, EnginePolicy.Current.ParallelOptions, ch =>
            {
                double s = 0, sh = 0;
                for (int i = 0; i < n; i++)
                {
                    int o = (i * c + ch) * inner;
                    for (int j = 0; j < inner; j++) { s += d[o + j]; sh += d[o + j] * normalised[o + j]; }
                }
                sumDy[ch] = s;
                sumDyH[ch] = sh;
            });
            if (x.RequiresGrad)
            {
                var dx = Uninitialized(x._shape);
                var dxs = dx._data;
                System.Threading.Tasks.Parallel.For(0, n, EnginePolicy.Current.ParallelOptions, i =>
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        int o = (i * c + ch) * inner;
                        float k = (g?[ch] ?? 1f) * rstd[ch] / m, a = (float)sumDy[ch], bh = (float)sumDyH[ch];
                        for (int j = 0; j < inner; j++) dxs[o + j] = k * (m * d[o + j] - a - normalised[o + j] * bh);
                    }
                });
                x.AccumulateGrad(dx, owned: true);
            }
            if (gamma is { RequiresGrad: true }) gamma.AccumulateGrad(new Tensor(sumDyH.Select(v => (float)v).ToArray(), gamma._shape), owned: true);
            if (beta is { RequiresGrad: true }) beta.AccumulateGrad(new Tensor(sumDy.Select(v => (float)v).ToArray(), beta._shape), owned: true);
        });
        return (y, mean.Select(v => (float)v).ToArray(), variance.Select(v => (float)v).ToArray());
    }

    /// <summary>
    /// Binary cross-entropy of sigmoid(<paramref name="logits"/>) against targets in [0, 1], summed over all but the
    /// batch axis ([N]), from the logits in one pass: softplus(l) − t·l, computed as max(l, 0) − t·l + log(1 + e^−|l|);
    /// gradient sigmoid(l) − t. Equal to <see cref="BinaryCrossEntropySum"/> of sigmoid(l) except where that clamps
    /// p to [ε, 1 − ε] (|l| &gt; 16), where this one keeps the exact value and gradient.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogitsSum(Tensor logits, Tensor target)
    {
        if (!Shapes.Equal(logits._shape, target._shape))
            throw new ArgumentException($"BCE: logits {Shapes.Format(logits._shape)} and targets {Shapes.Format(target._shape)} differ.");
        if (logits.Rank < 2) throw new ArgumentException($"BCE sums over all but the batch axis; got {Shapes.Format(logits._shape)}.");
        int n = logits.Dim(0), row = logits.Size / n;
        var l = logits._data;
        var t = target._data;
        var loss = new float[n];
        System.Threading.Tasks.Parallel.For(0, n, EnginePolicy.Current.ParallelOptions, i =>
        {
            double s = 0;
            for (int j = i * row, end = j + row; j < end; j++)
            {
                float v = l[j];
                s += MathF.Max(v, 0f) - t[j] * v + MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
            }
            loss[i] = (float)s;
        });
        var y = new Tensor(loss, n);
        return y.Record("bce_with_logits_sum", [logits, target], g =>
        {
            var gs = g._data;
            if (logits.RequiresGrad)
            {
                var dl = Uninitialized(logits._shape);
                var d = dl._data;
                System.Threading.Tasks.Parallel.For(0, n, EnginePolicy.Current.ParallelOptions, i =>
                {
                    for (int j = i * row, end = j + row; j < end; j++) d[j] = gs[i] * (1f / (1f + MathF.Exp(-l[j])) - t[j]);
                });
                logits.AccumulateGrad(dl, owned: true);
            }
            if (target.RequiresGrad)
            {
                var dt = Uninitialized(target._shape);
                var d = dt._data;
                for (int i = 0; i < n; i++)
                    for (int j = i * row, end = j + row; j < end; j++) d[j] = -gs[i] * l[j];
                target.AccumulateGrad(dt, owned: true);
            }
        });
    }
}
