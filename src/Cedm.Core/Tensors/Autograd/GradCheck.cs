namespace Cedm.Tensors.Autograd;

/// <summary>
/// Compares autograd gradients with central finite differences. The scalar objective is
/// L = Σ f(inputs) ⊙ R for a fixed random R (so every output element matters), accumulated in double.
/// Perturbations are made in float32 (our ops are float32), hence a step of about 1e-2 and tolerances near 1e-3.
/// </summary>
public static class GradCheck
{
    /// <summary>Worst = the element with the largest |analytic − numeric| / (atol + rtol·|numeric|); passes when that is ≤ 1.</summary>
    public sealed record Result(double WorstRatio, double MaxAbsError, string Worst, int Checked)
    {
        public bool Passed => WorstRatio <= 1.0 && Checked > 0;

        public override string ToString() => $"worst ratio {WorstRatio:G3} (max abs error {MaxAbsError:G3}) over {Checked} elements; {Worst}";
    }

    /// <param name="f">The function under test; it must be deterministic (reseed any RNG inside).</param>
    /// <param name="inputs">Inputs; those with RequiresGrad are checked.</param>
    /// <param name="step">Finite-difference step.</param>
    /// <param name="maxPerInput">Check at most this many elements per input (evenly spread), to keep tests fast.</param>
    /// <param name="atol">Absolute tolerance (float32 rounding of the objective divided by the step).</param>
    /// <param name="rtol">Relative tolerance (O(step²) truncation error of central differences).</param>
    public static Result Check(Func<Tensor[], Tensor> f, Tensor[] inputs, float step = 1e-2f, int maxPerInput = 64,
        double atol = 2e-3, double rtol = 2e-2, ulong seed = 1234)
    {
        var probe = f(inputs);
        var weights = Tensor.Randn(new Rng(seed), probe.ShapeArray());
        foreach (var t in inputs) t.ZeroGrad();
        (probe * weights).Sum().Backward();
        var analytic = inputs.Select(t => t.Grad?.ToArray()).ToArray();

        double Objective()
        {
            using var _ = GradMode.NoGrad();
            var y = f(inputs);
            double s = 0;
            for (int i = 0; i < y.Size; i++) s += (double)y.Data[i] * weights.Data[i];
            return s;
        }

        double maxAbs = 0, worstRatio = 0;
        int count = 0;
        string worst = "";
        for (int t = 0; t < inputs.Length; t++)
        {
            if (!inputs[t].RequiresGrad) continue;
            var data = inputs[t].Data;
            int stride = Math.Max(1, data.Length / maxPerInput);
            for (int i = 0; i < data.Length; i += stride)
            {
                float orig = data[i];
                data[i] = orig + step; double plus = Objective();
                data[i] = orig - step; double minus = Objective();
                data[i] = orig;
                double numeric = (plus - minus) / (2.0 * step);
                double a = analytic[t]?[i] ?? 0.0;
                double abs = Math.Abs(a - numeric), ratio = abs / (atol + rtol * Math.Abs(numeric));
                maxAbs = Math.Max(maxAbs, abs);
                count++;
                if (ratio > worstRatio || worst.Length == 0) { worstRatio = ratio; worst = $"input {t} element {i}: analytic {a:G6}, numeric {numeric:G6}"; }
            }
        }
        return new Result(worstRatio, maxAbs, worst, count);
    }
}
