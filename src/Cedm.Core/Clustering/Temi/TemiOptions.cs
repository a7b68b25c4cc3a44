namespace Cedm.Clustering.Temi;

/// <summary>
/// TEMI hyper-parameters. The defaults (<see cref="Spec"/>) are the recipe of spec §4.3–§4.5; <see cref="CpuDefault"/>
/// trades width and epochs for time on a small CPU. Side by side:
/// <code>
///                        spec (§4)            cpu
///   heads H              16                   8
///   hidden / bottleneck  512 / 256            64 / 32
///   epochs (warm-up)     100 (20)             30 (6)
///   batch, lr·B/256      1024, 1e-4 → 4e-4    same
///   β, τ_s, τ_t          0.6, 0.1, 0.1        same
///   kNN k, momenta       50, 0.996 / 0.9      same
///   min steps / epoch    1                    16 (small-data guard, see MinStepsPerEpoch)
///   teacher m, T steps   0.996^(4800/T) when T &lt; 4 800, else 0.996, in both (MomentumReferenceSteps)
/// </code>
/// Why the cpu heads are many and narrow (2 shared cores, load 10–17; tools/experiments/temi_blobs.sh): on 6 Gaussian
/// blobs in 16-D (N = 1 200) over 10 runs (TEMI seeds 0–4 on data seed 11, data seeds 12–16 with TEMI seed 0), the old
/// cpu preset (4 heads 256/128, lr scaled by the guard's 75-item batch to 2.9e-5) reached ACC ≥ 0.95 in 2 of 10 runs
/// (min 0.69; its failures split one blob and merge two); 4 heads 64/32 at 2.9e-4 in 8 of 10 (min 0.88); 8 heads 64/32 at
/// 4e-4 (the recipe's lr·1024/256, now kept by the guard) in 10 of 10 (min 0.97). The best-head choice (§4.6) needs
/// candidates more than width: twice the heads at a quarter of the width is ≈ 4× fewer FLOPs per step (D = 64:
/// 8·(64·64 + 64·32) vs 4·(64·256 + 256·128)), and 2.6× less time per blob run here.
/// (Those runs predate the teacher-momentum scaling below.)
/// <para>
/// Why heads merged clusters k-means separates, and the fix (<see cref="MomentumReferenceSteps"/>; tools/experiments/
/// temi_probe.sh, 2 shared cores at load 16–28). 17 blobs in 48-D (sklearn make_blobs, std 2.5, N = 6 000, random_state 0;
/// k-means NMI 1.000), cpu preset = 8 heads × 30 epochs × 16 steps = 480 steps. With the recipe's constant teacher momentum
/// 0.996 the teacher averages the student over ~250 steps, half the run: it stays near its random start, and its
/// targets lock the students into partitions that merge some blobs and split others. Seeds 1, 2: all 17 clusters used
/// but NMI 0.932 / 0.937, every one of the 8 heads at NMI 0.853–0.937, final loss −1.24 / −1.33 (the spec-preset
/// run, 5 steps × 100 epochs = 500 steps: 16 of 17 used, NMI 0.914, 538 s). The best-head rule was not the cause: in
/// every probe run the lowest-loss head was also the head of highest NMI (or tied). Momentum 0.988: seeds 1–5 NMI
/// ≥ 0.999 (loss ≈ −2.38); momentum 0.96: seeds 1–4 NMI 1.000, all 8 heads ≥ 0.97 (loss −2.80). Scaling m to the run's
/// length, m^(4 800 / T), gives 0.961 here and leaves the recipe's own runs (T ≥ 4 800) untouched; the PyTorch TEMI
/// (bench/peers/temi.py) with the same rule: seed 1 NMI 1.000. Result at the default preset over TEMI seeds 1–10
/// (tools/experiments/temi_blob_seeds.sh): every cluster used and NMI ≥ 0.95 in 10 of 10 seeds (NMI 1.000 in all 30
/// runs) for 17 blobs in 48-D, 30 in 64-D (std 3, N = 6 000) and 6 in 16-D (std 1.5, N = 1 200). A unit-test-sized case: 10 blobs in 24-D (N = 800, 4 heads),
/// TEMI seeds 0–2: NMI 0.933 / 0.943 / 1.000 at m = 0.996, 1.000 ×3 scaled. lr, kNN partners and initialisation were
/// not changed (the momentum alone closed the gap).
/// </para>
/// Fashion-MNIST train, `cedm features --extractor pca:64`, K = 10, seed 0, both presets run side by side at load 13–20
/// (before the momentum scaling; not rerun since):
/// NMI 0.337 (old) vs 0.332 (new), ACC 0.394 vs 0.378, CPU time 7 min 10 s vs 3 min 54 s (epoch median 40 s vs 32 s,
/// kNN ≈ 45 s either way). k-means (seed 0) on the same features: NMI 0.466 — TEMI on raw PCA features is well below it.
/// </summary>
public sealed record TemiOptions
{
    /// <summary>Independent heads H (spec §4.3: 16).</summary>
    public int Heads { get; init; } = 16;

    /// <summary>Exponent β of the PMI loss (spec §4.4: 0.6; β = 1 is the weighted PMI used for the lower bound).</summary>
    public double Beta { get; init; } = 0.6;

    /// <summary>Student temperature τ_s (spec §4.4: 0.1).</summary>
    public float StudentTemperature { get; init; } = 0.1f;

    /// <summary>Teacher temperature τ_t (spec §4.4: 0.1); also the temperature of the saved probabilities and confidence.</summary>
    public float TeacherTemperature { get; init; } = 0.1f;

    /// <summary>Neighbours k a partner is drawn from (spec §4.1/§4.2: 50; clamped to N − 1 on tiny data).</summary>
    public int Neighbours { get; init; } = 50;

    /// <summary>
    /// Centre and PCA-whiten the features to this many values (at most D) before the kNN and the heads
    /// (<see cref="TemiWhitening"/>; ours: spec §4.1 uses raw embeddings, on which TEMI collapses for uncentred
    /// features such as ResNet-18's); 0 = the raw features.
    /// </summary>
    public int Whiten { get; init; } = 64;

    /// <summary>Batch B (spec §4.5: 1024, drop_last; when N &lt; B the whole shuffled set is one batch).</summary>
    public int BatchSize { get; init; } = 1024;

    /// <summary>
    /// Small-data guard: the batch shrinks to ⌊N / this⌋ (≥ 2) so an epoch has at least this many steps (the lr keeps
    /// the configured batch's scale lr·min(B, N)/256; scaling it by the shrunk batch starved small runs, see the remarks). The recipe assumes N ≈ 50 000 (≈ 50 steps an epoch) and a per-step
    /// teacher EMA of 0.996, which needs hundreds of steps to move; at N = 1 200 with B = 1 024 an epoch is one step
    /// and TEMI does not converge (measured on 6 blobs: ACC 0.59 after 30 epochs). Spec: 1 (no effect unless N &lt; B).
    /// </summary>
    public int MinStepsPerEpoch { get; init; } = 1;

    public int Epochs { get; init; } = 100;

    /// <summary>Linear LR warm-up from 0 over this many epochs (spec §4.5: 20).</summary>
    public int WarmupEpochs { get; init; } = 20;

    /// <summary>Base LR, scaled by B/256 (spec §4.5: 1e-4 → 4e-4 at B = 1024).</summary>
    public double Lr { get; init; } = 1e-4;

    /// <summary>Final LR of the cosine, scaled by B/256 (spec §4.5: 1e-4, so constant after warm-up).</summary>
    public double MinLr { get; init; } = 1e-4;

    /// <summary>AdamW weight decay on parameters with ≥ 2 dims (spec §4.5: 1e-4); biases 0.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Teacher EMA momentum m (spec §4.5: 0.996, constant); see <see cref="MomentumReferenceSteps"/> for short runs.</summary>
    public double TeacherMomentum { get; init; } = 0.996;

    /// <summary>
    /// The recipe's total optimiser steps, T_ref = 4 800 (spec §4.5: CIFAR-10's 50 000 rows / batch 1 024 = 48 steps an
    /// epoch, × 100 epochs). A run of T &lt; T_ref steps uses the teacher momentum m^(T_ref / T), so the teacher still
    /// averages the student over the same share of training as the recipe (1/(1 − m) = 250 steps ≈ 5 % of 4 800);
    /// runs of T_ref steps or more use m unchanged. 0 turns the scaling off. Why: with m = 0.996 a run of a few hundred
    /// steps leaves the teacher close to its random initialisation for most of training, and its targets lock the
    /// heads into merged/split clusters (measurements in the type's remarks).
    /// </summary>
    public int MomentumReferenceSteps { get; init; } = 4800;

    /// <summary>The teacher momentum a run of <paramref name="totalSteps"/> optimiser steps uses (<see cref="MomentumReferenceSteps"/>).</summary>
    public double EffectiveTeacherMomentum(long totalSteps) =>
        MomentumReferenceSteps > 0 && totalSteps > 0 && totalSteps < MomentumReferenceSteps
            ? Math.Pow(TeacherMomentum, (double)MomentumReferenceSteps / totalSteps)
            : TeacherMomentum;

    /// <summary>Cluster-prior EMA momentum (spec §4.4 step 1: 0.9).</summary>
    public double PriorMomentum { get; init; } = 0.9;

    /// <summary>Epochs during which the last layer (g, v) gets no updates (spec §4.5: 1, i.e. epoch 0).</summary>
    public int FreezeLastLayerEpochs { get; init; } = 1;

    /// <summary>Head MLP hidden width (spec §4.3: 512).</summary>
    public int Hidden { get; init; } = 512;

    /// <summary>Head bottleneck width (spec §4.3: 256).</summary>
    public int Bottleneck { get; init; } = 256;

    /// <summary>The spec's recipe (§4.3–§4.5).</summary>
    public static TemiOptions Spec() => new();

    /// <summary>
    /// CPU preset, the default of `cedm cluster` and of the bound search: 8 heads of width 64/32 for 30 epochs (6 warm-up),
    /// at least 16 steps an epoch. Everything else as the spec (the teacher momentum scaled for short runs as in every
    /// preset). On 60 000 × 512 features an epoch is 58 steps of ≈ 5 GFLOP (the spec's 16 heads 512/256: ≈ 100 GFLOP),
    /// see bench suite "temi". Measurements in the type's remarks.
    /// </summary>
    public static TemiOptions CpuDefault() => new()
    {
        Heads = 8,
        Hidden = 64,
        Bottleneck = 32,
        Epochs = 30,
        WarmupEpochs = 6,
        MinStepsPerEpoch = 16,
    };

    /// <summary>"spec" or "cpu".</summary>
    public static TemiOptions FromPreset(string preset) => preset.ToLowerInvariant() switch
    {
        "spec" => Spec(),
        "cpu" => CpuDefault(),
        _ => throw new ArgumentException($"Unknown TEMI preset '{preset}' (expected spec or cpu)."),
    };

    /// <summary>The most epochs accepted (the paper's recipe runs 100; a million would take years here).</summary>
    public const int MaxEpochs = 1_000_000;

    /// <summary>Throws on values the trainer cannot use.</summary>
    public void Validate()
    {
        if (Whiten < 0) throw new ArgumentException($"TEMI whitening dimension must be ≥ 0, got {Whiten}.");
        if (Heads < 1) throw new ArgumentException($"TEMI heads must be ≥ 1, got {Heads}.");
        if (!(Beta > 0 && Beta <= 1)) throw new ArgumentException($"TEMI β must be in (0, 1], got {Beta}.");
        if (!(StudentTemperature > 0) || !(TeacherTemperature > 0)) throw new ArgumentException("TEMI temperatures must be > 0.");
        if (Neighbours < 1) throw new ArgumentException($"TEMI kNN k must be ≥ 1, got {Neighbours}.");
        if (MinStepsPerEpoch < 1) throw new ArgumentException($"TEMI min steps per epoch must be ≥ 1, got {MinStepsPerEpoch}.");
        if (BatchSize < 2) throw new ArgumentException($"TEMI batch must be ≥ 2, got {BatchSize}.");
        if (Epochs is < 1 or > MaxEpochs) throw new ArgumentException($"TEMI epochs must be between 1 and {MaxEpochs}, got {Epochs}.", nameof(Epochs));
        if (WarmupEpochs < 0 || WarmupEpochs > Epochs) throw new ArgumentException($"TEMI warm-up epochs must be within [0, {Epochs}], got {WarmupEpochs}.");
        if (!(Lr >= 0) || !(MinLr >= 0) || !(WeightDecay >= 0)) throw new ArgumentException("TEMI lr, min lr and weight decay must be ≥ 0.");
        if (!(TeacherMomentum is >= 0 and <= 1) || !(PriorMomentum is >= 0 and <= 1)) throw new ArgumentException("TEMI momenta must be in [0, 1].");
        if (Hidden < 1 || Bottleneck < 1) throw new ArgumentException("TEMI hidden and bottleneck widths must be ≥ 1.");
        if (MomentumReferenceSteps < 0) throw new ArgumentException($"TEMI momentum reference steps must be ≥ 0, got {MomentumReferenceSteps}.");
    }
}
