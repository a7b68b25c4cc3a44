namespace Cedm.Nn.Optim;

/// <summary>Learning-rate schedules, evaluated per step and applied with <see cref="Optimizer.SetLr"/>.</summary>
public static class LrSchedule
{
    /// <summary>
    /// EDM's linear warm-up (spec §1.4): lr_ref·min(cur_nimg / (rampup_kimg·1000), 1), where cur_nimg counts the
    /// images seen *before* this step, so the first step has lr 0. No decay afterwards. rampup_kimg ≤ 0 means none.
    /// </summary>
    public static double EdmWarmup(double lrRef, long curNimg, double rampupKimg)
    {
        if (curNimg < 0) throw new ArgumentOutOfRangeException(nameof(curNimg), curNimg, "Image count must be ≥ 0.");
        if (rampupKimg <= 0) return lrRef;
        return lrRef * Math.Min(curNimg / Math.Max(rampupKimg * 1000.0, 1e-8), 1.0);
    }

    /// <summary>
    /// TEMI's (DINO's <c>cosine_scheduler</c>) per-iteration value (spec §4.5) over epochs·itersPerEpoch iterations:
    /// the first W = warmupEpochs·itersPerEpoch iterations are NumPy's linspace(start, base, W), i.e.
    /// start + (base − start)·it/(W − 1) — it reaches <paramref name="baseValue"/> on its last warm-up iteration —
    /// then final + ½(base − final)(1 + cos(π·i/T)) with i = it − W and T = total − W.
    /// With base = final (TEMI's recipe lr = min_lr) the value is constant after warm-up.
    /// </summary>
    public static double WarmupCosine(long iteration, double baseValue, double finalValue, int epochs, int itersPerEpoch,
        int warmupEpochs = 0, double startWarmupValue = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(itersPerEpoch, 1);
        if (warmupEpochs < 0 || warmupEpochs > epochs)
            throw new ArgumentOutOfRangeException(nameof(warmupEpochs), warmupEpochs, $"Warm-up must be within [0, {epochs}] epochs.");
        long total = (long)epochs * itersPerEpoch, warm = (long)warmupEpochs * itersPerEpoch;
        if (iteration < 0 || iteration >= total)
            throw new ArgumentOutOfRangeException(nameof(iteration), iteration, $"Iteration must be within [0, {total}).");
        if (iteration < warm)
            return warm == 1 ? startWarmupValue : startWarmupValue + (baseValue - startWarmupValue) * iteration / (double)(warm - 1);
        long i = iteration - warm, span = total - warm;
        return finalValue + 0.5 * (baseValue - finalValue) * (1 + Math.Cos(Math.PI * i / span));
    }
}
