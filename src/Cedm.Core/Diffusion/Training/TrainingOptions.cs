namespace Cedm.Diffusion.Training;

/// <summary>
/// EDM training settings (spec §1.4). Adam lr 1e-3, β (0.9, 0.999), ε 1e-8 are EDM's. EDM's schedule lengths are
/// meant for 200 Mimg runs (warm-up 10 000 kimg, EMA half-life 500 kimg); a CPU run sees ~1000× fewer images, so the
/// defaults here are EDM's divided by 1000 (warm-up 10 kimg, half-life 0.5 kimg) with EDM's EMA ramp ratio 0.05 —
/// the same fractions of a 200-kimg run as EDM's of its 200-Mimg run. Pass EDM's values for a full-length run.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Network preset: tiny, small or cifar-edm (<see cref="Networks.SongUNetOptions"/>).</summary>
    public string Preset { get; init; } = "tiny";

    /// <summary>Images per optimiser step (EDM CIFAR-10: 512; our CPU default 32).</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Adam's reference learning rate (EDM: 1e-3).</summary>
    public double Lr { get; init; } = 1e-3;

    /// <summary>Linear learning-rate warm-up length in kimg (EDM: 10 000 for 200 Mimg; default 10, see the type's remarks).</summary>
    public double LrRampupKimg { get; init; } = 10;

    /// <summary>EMA half-life in kimg (EDM: 500 for 200 Mimg; default 0.5).</summary>
    public double EmaHalflifeKimg { get; init; } = 0.5;

    /// <summary>EMA ramp-up ratio: half-life ≤ ratio × images seen (EDM: 0.05); null disables it.</summary>
    public double? EmaRampupRatio { get; init; } = 0.05;

    /// <summary>Total training length in kimg (absolute: a resumed run stops at the same total). Null: use minutes only.</summary>
    public double? Kimg { get; init; }

    /// <summary>Wall-clock budget of this invocation in minutes (null: kimg only).</summary>
    public double? Minutes { get; init; }

    /// <summary>A checkpoint every this many kimg (and always at the end).</summary>
    public double CheckpointKimg { get; init; } = 5;

    /// <summary>A log.jsonl line every this many kimg.</summary>
    public double LogKimg { get; init; } = 0.5;

    /// <summary>How many of the newest checkpoints to keep on disk (older ones are deleted).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Seed of the network initialisation, the data order and every training draw.</summary>
    public long Seed { get; init; }

    /// <summary>Probability of replacing an image's condition by the all-zero vector (C-EDM --p_uncond; for guidance).</summary>
    public double PUncond { get; init; }

    /// <summary>
    /// Path-conditioned runs (--cond tree:&lt;dir&gt;): probability that an image's root-to-leaf path is cut at an ancestor
    /// drawn uniformly from the root to the leaf's parent (related-seeds D.3 "path truncation"), so the network learns a
    /// row for every internal node and can be sampled at any depth from that row. 0 (default) trains full paths only.
    /// </summary>
    public double PathTruncation { get; init; }

    /// <summary>Random horizontal flips of training images (EDM's dataset --xflip; off by default, spec §1.1).</summary>
    public bool XFlip { get; init; }

    /// <summary>Dropout inside the U-Net blocks; null keeps the preset's value.</summary>
    public float? Dropout { get; init; }

    /// <summary>Longest training accepted, in kimg (a billion images; EDM's CIFAR-10 recipe is 200 000 kimg).</summary>
    public const double MaxKimg = 1_000_000;

    /// <summary>Longest training accepted, in minutes (a year).</summary>
    public const double MaxMinutes = 525_600;

    /// <summary>The largest batch accepted (activations of a bigger one would not fit any machine's memory).</summary>
    public const int MaxBatch = 65_536;

    public void Validate()
    {
        if (Batch is < 1 or > MaxBatch) throw new ArgumentException($"must be between 1 and {MaxBatch}, got {Batch}", nameof(Batch));
        static void Finite(double value, string name) { if (!double.IsFinite(value)) throw new ArgumentException($"must be finite, got {value}", name); }
        Finite(Lr, nameof(Lr));
        Finite(LrRampupKimg, nameof(LrRampupKimg));
        Finite(EmaHalflifeKimg, nameof(EmaHalflifeKimg));
        Finite(CheckpointKimg, nameof(CheckpointKimg));
        Finite(LogKimg, nameof(LogKimg));
        if (!(Lr > 0)) throw new ArgumentException($"must be > 0, got {Lr}", nameof(Lr));
        if (!(LrRampupKimg >= 0)) throw new ArgumentException($"must be ≥ 0, got {LrRampupKimg}", nameof(LrRampupKimg));
        if (!(EmaHalflifeKimg >= 0)) throw new ArgumentException($"must be ≥ 0, got {EmaHalflifeKimg}", nameof(EmaHalflifeKimg));
        // Finite bounds: an infinite --kimg or --minutes would train forever (EDM's longest recipe is 200 000 kimg).
        if (Kimg is not null && !(Kimg > 0 && Kimg <= MaxKimg)) throw new ArgumentException($"must be > 0 and at most {MaxKimg}, got {Kimg}", nameof(Kimg));
        if (Minutes is not null && !(Minutes > 0 && Minutes <= MaxMinutes)) throw new ArgumentException($"must be > 0 and at most {MaxMinutes} (a year), got {Minutes}", nameof(Minutes));
        if (Kimg is null && Minutes is null) throw new ArgumentException("give a length in kimg or minutes (or both) to bound training", nameof(Kimg));
        if (!(CheckpointKimg > 0)) throw new ArgumentException($"must be > 0, got {CheckpointKimg}", nameof(CheckpointKimg));
        if (!(LogKimg > 0)) throw new ArgumentException($"must be > 0, got {LogKimg}", nameof(LogKimg));
        if (KeepCheckpoints < 1) throw new ArgumentException($"must be ≥ 1, got {KeepCheckpoints}", nameof(KeepCheckpoints));
        if (!(PUncond >= 0 && PUncond <= 1)) throw new ArgumentException($"must be in [0, 1], got {PUncond}", nameof(PUncond));
        if (!(PathTruncation >= 0 && PathTruncation < 1)) throw new ArgumentException($"must be in [0, 1), got {PathTruncation}", nameof(PathTruncation));
        if (Dropout is { } dropout && !(dropout >= 0f && dropout < 1f)) throw new ArgumentException($"must be in [0, 1), got {Dropout}", nameof(Dropout));
    }
}
