namespace Cedm.Diffusion.Sampling;

/// <summary>
/// EDM's sampler settings (spec §1.5): 18 steps, σ from 80 down to 0.002 with ρ = 7, deterministic (S_churn = 0), with
/// DPM-Solver++(2M) as the solver (18 network evaluations; EDM's own Heun is <c>Solver = Heun</c>, 35 evaluations): on
/// the default run's model it gave FD_fmnist 12.10 against Heun's 12.32 at half the evaluations (docs/sampling.md). <see cref="Steps"/> N is the number of non-zero
/// noise levels of EDM's schedule under either <see cref="Solver"/>: Heun evaluates the network 2N − 1 times,
/// DPM-Solver++(2M) N times (<see cref="SamplerSolvers.Evaluations"/>); churn needs Heun. The stochastic variant of EDM's ImageNet-64
/// run is Steps 256, SChurn 40, SMin 0.05, SMax 50, SNoise 1.003. Guidance is the classifier-free guidance weight
/// w of C-EDM's generate.py (0 = off; only useful when the model was trained with condition dropout).
/// For a coherence-aware model (related-seeds C.6, D.1) <see cref="Coherence"/> is the c every image is generated at
/// (1 = the clean conditional model, 0 = its label-free end), and <see cref="CoherenceGuidance"/> ω &gt; 0 turns on
/// CA-CFG: (1 + ω)·D(x; σ, k, Coherence) − ω·D(x; σ, k, CoherenceLow). The two guidances are exclusive.
/// <see cref="BatchSize"/> only groups seeds for speed: a seed gives the same image at any batch size.
/// </summary>
public sealed record SamplerOptions
{
    /// <summary>The ODE solver; DPM-Solver++(2M) by default (docs/sampling.md: the FD measurement behind it).</summary>
    public SamplerSolver Solver { get; init; } = SamplerSolvers.Default;

    public int Steps { get; init; } = 18;
    public double SigmaMin { get; init; } = 0.002;
    public double SigmaMax { get; init; } = 80;
    public double Rho { get; init; } = 7;
    public double SChurn { get; init; }
    public double SMin { get; init; }
    public double SMax { get; init; } = double.PositiveInfinity;
    public double SNoise { get; init; } = 1;
    public double Guidance { get; init; }

    /// <summary>Coherence c (c_hi under CA-CFG) given to a coherence-aware model; ignored by other models.</summary>
    public double Coherence { get; init; } = 1;

    /// <summary>CA-CFG weight ω (0 = off; CAD's class presets use 7, its coherence sweeps 5).</summary>
    public double CoherenceGuidance { get; init; }

    /// <summary>c_lo of CA-CFG's negative term (CAD default 0).</summary>
    public double CoherenceLow { get; init; }
    public int BatchSize { get; init; } = 64;

    /// <summary>The most steps accepted: EDM's stochastic ImageNet recipe uses 256, a DDPM 1 000.</summary>
    public const int MaxSteps = 10_000;

    /// <summary>The largest batch accepted (a batch of 32×32 images this large is already gigabytes).</summary>
    public const int MaxBatchSize = 65_536;

    /// <summary>Checks every setting; an error's ParamName is the property it is about.</summary>
    public void Validate()
    {
        if (Steps is < 1 or > MaxSteps) throw new ArgumentException($"steps must be between 1 and {MaxSteps}, got {Steps}", nameof(Steps));
        if (!(SigmaMin > 0) || double.IsInfinity(SigmaMin)) throw new ArgumentException($"need 0 < sigma-min < ∞, got {SigmaMin}", nameof(SigmaMin));
        if (!(SigmaMax > 0) || double.IsInfinity(SigmaMax)) throw new ArgumentException($"need 0 < sigma-max < ∞, got {SigmaMax}", nameof(SigmaMax));
        if (SigmaMin > SigmaMax) throw new ArgumentException($"--sigma-min {SigmaMin} is above --sigma-max {SigmaMax}", nameof(SigmaMin));
        if (!(Rho > 0) || double.IsInfinity(Rho)) throw new ArgumentException($"rho must be a finite value > 0, got {Rho}", nameof(Rho));
        if (!(SChurn >= 0) || double.IsInfinity(SChurn)) throw new ArgumentException($"S_churn must be a finite value ≥ 0, got {SChurn}", nameof(SChurn));
        if (!Enum.IsDefined(Solver)) throw new ArgumentException($"not a sampler solver: {(int)Solver}", nameof(Solver));
        if (Solver != SamplerSolver.Heun && SChurn > 0)
            throw new ArgumentException($"stochastic churn (S_churn = {SChurn}) needs the heun solver; {SamplerSolvers.Name(Solver)} is deterministic: set S_churn to 0 or sample with --solver heun", nameof(SChurn));
        if (!(SMin >= 0) || double.IsInfinity(SMin)) throw new ArgumentException($"S_min must be a finite value ≥ 0, got {SMin}", nameof(SMin));
        if (!(SMax >= SMin)) throw new ArgumentException($"S_max must be ≥ S_min ({SMin}; ∞ = no upper end), got {SMax}", nameof(SMax));
        if (!(SNoise >= 0) || double.IsInfinity(SNoise)) throw new ArgumentException($"S_noise must be a finite value ≥ 0, got {SNoise}", nameof(SNoise));
        if (!(Guidance >= 0) || double.IsInfinity(Guidance)) throw new ArgumentException($"guidance must be a finite value ≥ 0, got {Guidance}", nameof(Guidance));
        if (!(Coherence >= 0 && Coherence <= 1)) throw new ArgumentException($"coherence must be in [0, 1], got {Coherence}", nameof(Coherence));
        if (!(CoherenceLow >= 0 && CoherenceLow <= 1)) throw new ArgumentException($"the low coherence must be in [0, 1], got {CoherenceLow}", nameof(CoherenceLow));
        if (!(CoherenceGuidance >= 0) || double.IsInfinity(CoherenceGuidance)) throw new ArgumentException($"coherence guidance must be a finite value ≥ 0, got {CoherenceGuidance}", nameof(CoherenceGuidance));
        if (Guidance > 0 && CoherenceGuidance > 0) throw new ArgumentException("choose one guidance: classifier-free (guidance) or coherence-aware (coherence guidance)", nameof(CoherenceGuidance));
        if (BatchSize is < 1 or > MaxBatchSize) throw new ArgumentException($"batch size must be between 1 and {MaxBatchSize}, got {BatchSize}", nameof(BatchSize));
    }
}
