using System.Numerics.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Softmax, log-softmax and log-sum-exp along an axis, all max-shifted for stability.
public sealed partial class Tensor
{
    public Tensor Softmax(int axis = -1)
    {
        var x = this;
        axis = Shapes.Axis(axis, Rank);
        var y = SoftmaxForward(this, axis, log: false);
        return y.Record("softmax", x, g =>
        {
            // dx = y ⊙ (g − Σ g⊙y) along the axis.
            var gx = Uninitialized(x._shape);
            if (IsLastAxis(x._shape, axis, out int rows, out int len))
                LastAxisRows(rows, len, (r, n) =>
                {
                    var yr = y._data.AsSpan(r * n, n); var gr = g._data.AsSpan(r * n, n); var dst = gx._data.AsSpan(r * n, n);
                    TensorPrimitives.Subtract(gr, TensorPrimitives.Dot(gr, yr), dst);
                    TensorPrimitives.Multiply(dst, yr, dst);
                });
            else
                AlongAxis(x._shape, axis, (idx, n) =>
                {
                    double dot = 0;
                    for (int j = 0; j < n; j++) dot += g._data[idx(j)] * y._data[idx(j)];
                    for (int j = 0; j < n; j++) gx._data[idx(j)] = y._data[idx(j)] * (g._data[idx(j)] - (float)dot);
                });
            x.AccumulateGrad(gx, owned: true);
        });
    }

    public Tensor LogSoftmax(int axis = -1)
    {
        var x = this;
        axis = Shapes.Axis(axis, Rank);
        var y = SoftmaxForward(this, axis, log: true);
        return y.Record("log_softmax", x, g =>
        {
            // dx = g − softmax ⊙ Σ g along the axis, with softmax = exp(y).
            var gx = Uninitialized(x._shape);
            if (IsLastAxis(x._shape, axis, out int rows, out int len))
                LastAxisRows(rows, len, (r, n) =>
                {
                    var gr = g._data.AsSpan(r * n, n); var dst = gx._data.AsSpan(r * n, n);
                    TensorPrimitives.Exp(y._data.AsSpan(r * n, n), dst);
                    TensorPrimitives.MultiplyAdd(dst, -TensorPrimitives.Sum<float>(gr), gr, dst);
                });
            else
                AlongAxis(x._shape, axis, (idx, n) =>
                {
                    double sum = 0;
                    for (int j = 0; j < n; j++) sum += g._data[idx(j)];
                    for (int j = 0; j < n; j++) gx._data[idx(j)] = g._data[idx(j)] - MathF.Exp(y._data[idx(j)]) * (float)sum;
                });
            x.AccumulateGrad(gx, owned: true);
        });
    }

    /// <summary>log Σ exp(x) along an axis (the axis is removed unless <paramref name="keepDim"/>).</summary>
    public Tensor LogSumExp(int axis = -1, bool keepDim = false)
    {
        var x = this;
        axis = Shapes.Axis(axis, Rank);
        var outShape = keepDim ? ShapeArray() : ShapeWithout(axis);
        if (keepDim) outShape[axis] = 1;
        var y = Uninitialized(outShape);
        var (_, _, inner) = Shapes.AroundAxis(_shape, axis);
        if (IsLastAxis(_shape, axis, out int rows, out int len))
            LastAxisRows(rows, len, (r, n) =>
            {
                Span<float> t = n <= StackRow ? stackalloc float[n] : new float[n];
                y._data[r] = RowLogSumExp.Compute(_data.AsSpan(r * n, n), t);
            });
        else
            AlongAxis(_shape, axis, (idx, n) =>
            {
                float m = float.NegativeInfinity;
                for (int j = 0; j < n; j++) m = MathF.Max(m, _data[idx(j)]);
                double s = 0;
                for (int j = 0; j < n; j++) s += MathF.Exp(_data[idx(j)] - m);
                y._data[idx(0) / (n * inner) * inner + idx(0) % inner] = float.IsNegativeInfinity(m) ? m : m + (float)Math.Log(s);
            }, parallel: false);
        return y.Record("logsumexp", x, g =>
        {
            // d/dx logsumexp = softmax(x) along the axis.
            var gx = Uninitialized(x._shape);
            if (IsLastAxis(x._shape, axis, out int rows, out int len))
                LastAxisRows(rows, len, (r, n) =>
                {
                    var dst = gx._data.AsSpan(r * n, n);
                    TensorPrimitives.Subtract(x._data.AsSpan(r * n, n), y._data[r], dst);
                    TensorPrimitives.Exp(dst, dst);
                    TensorPrimitives.Multiply(dst, g._data[r], dst);
                });
            else
                AlongAxis(x._shape, axis, (idx, n) =>
                {
                    int o = idx(0) / (n * inner) * inner + idx(0) % inner;
                    float lse = y._data[o], gv = g._data[o];
                    for (int j = 0; j < n; j++) gx._data[idx(j)] = gv * MathF.Exp(x._data[idx(j)] - lse);
                });
            x.AccumulateGrad(gx, owned: true);
        });
    }

    /// <summary>Rows up to this length keep their scratch on the stack.</summary>
    private const int StackRow = 2048;

    /// <summary>True when <paramref name="axis"/> is the innermost one (contiguous rows of <paramref name="len"/>).</summary>
    private static bool IsLastAxis(ReadOnlySpan<int> shape, int axis, out int rows, out int len)
    {
        var (outer, n, inner) = Shapes.AroundAxis(shape, axis);
        (rows, len) = (outer, n);
        return inner == 1 && n > 0;
    }

    /// <summary>Calls body(row, len) for every contiguous row, rows split over the engine's threads.</summary>
    private static void LastAxisRows(int rows, int len, Action<int, int> body) =>
        Parallelism.For(rows, (r0, nr) =>
        {
            for (int r = r0; r < r0 + nr; r++) body(r, len);
        }, Math.Max(1, Parallelism.MinParallelElements / len));

    private static Tensor SoftmaxForward(Tensor x, int axis, bool log)
    {
        var y = Uninitialized(x._shape);
        var (_, n, inner) = Shapes.AroundAxis(x._shape, axis);
        if (inner == 1)
        {
            // Last axis: contiguous rows, vectorised.
            int rows = x.Size / Math.Max(1, n);
            Parallelism.For(rows, (r0, nr) =>
            {
                Span<float> tmp = log ? n <= StackRow ? stackalloc float[n] : new float[n] : default;
                for (int r = r0; r < r0 + nr; r++)
                {
                    var src = x._data.AsSpan(r * n, n);
                    var dst = y._data.AsSpan(r * n, n);
                    float m = TensorPrimitives.Max<float>(src);
                    TensorPrimitives.Subtract(src, m, dst);
                    if (log)
                    {
                        TensorPrimitives.Exp(dst, tmp);
                        float lse = MathF.Log(TensorPrimitives.Sum<float>(tmp));
                        TensorPrimitives.Subtract(dst, lse, dst);
                    }
                    else
                    {
                        TensorPrimitives.Exp(dst, dst);
                        TensorPrimitives.Divide(dst, TensorPrimitives.Sum<float>(dst), dst);
                    }
                }
            }, Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, n)));
            return y;
        }
        AlongAxis(x._shape, axis, (idx, len) =>
        {
            float m = float.NegativeInfinity;
            for (int j = 0; j < len; j++) m = MathF.Max(m, x._data[idx(j)]);
            double s = 0;
            for (int j = 0; j < len; j++) s += MathF.Exp(x._data[idx(j)] - m);
            float ls = (float)Math.Log(s);
            for (int j = 0; j < len; j++)
                y._data[idx(j)] = log ? x._data[idx(j)] - m - ls : MathF.Exp(x._data[idx(j)] - m - ls);
        });
        return y;
    }

    /// <summary>Calls body(index, n) once per line along <paramref name="axis"/>; index(j) is the flat index of element j.</summary>
    private static void AlongAxis(ReadOnlySpan<int> shape, int axis, Action<Func<int, int>, int> body, bool parallel = true)
    {
        var (outer, n, inner) = Shapes.AroundAxis(shape, axis);
        int lines = outer * inner;
        void Line(int l)
        {
            int o = l / inner, i = l % inner, baseIdx = o * n * inner + i;
            body(j => baseIdx + j * inner, n);
        }
        if (parallel) Parallelism.ForEach(lines, n, Line);
        else for (int l = 0; l < lines; l++) Line(l);
    }
}
