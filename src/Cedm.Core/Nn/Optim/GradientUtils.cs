using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>Gradient post-processing between backward and the optimiser step. Both modify gradients in place.</summary>
public static class GradientUtils
{
    /// <summary>
    /// PyTorch's clip_grad_norm_: the total L2 norm over all gradients (parameters without one are ignored) is
    /// returned; every gradient is multiplied by min(1, maxNorm / (total + 1e-6)). A non-finite total is returned
    /// as is (and then scales gradients to NaN, as PyTorch with error_if_nonfinite = False).
    /// </summary>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be > 0.");
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        double sumSq = 0;
        foreach (var g in grads)
            foreach (float v in g.Data) sumSq += (double)v * v;
        double total = Math.Sqrt(sumSq);
        double coef = Math.Min(maxNorm / (total + 1e-6), 1.0);
        if (coef < 1.0 || double.IsNaN(coef))
        {
            float c = (float)coef;
            foreach (var g in grads)
            {
                var d = g.Data;
                for (int i = 0; i < d.Length; i++) d[i] *= c;
            }
        }
        return total;
    }

    /// <summary>
    /// EDM's fp32 sanitising before every step (spec §1.4, torch.nan_to_num(nan=0, posinf=1e5, neginf=−1e5)):
    /// NaN → 0, +∞ → 1e5, −∞ → −1e5. Returns how many values were replaced.
    /// </summary>
    public static int SanitizeGradients(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int replaced = 0;
        foreach (var p in parameters)
        {
            if (p.Grad == null) continue;
            var d = p.Grad.Data;
            for (int i = 0; i < d.Length; i++)
            {
                float v = d[i];
                if (float.IsFinite(v)) continue;
                d[i] = float.IsNaN(v) ? 0f : v > 0 ? 1e5f : -1e5f;
                replaced++;
            }
        }
        return replaced;
    }
}
