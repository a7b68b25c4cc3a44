using System.Globalization;
using System.Runtime;
using Cedm.Benchmarks.Harness;
using Cedm.Diffusion;
using Cedm.Diffusion.Networks;
using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// The diffusion network end to end on 32×32×1 at batch 64 (issue "Diffusion"): a training step (EDMPrecond
/// forward + EDM loss + backward + Adam step, dropout on) and one no-grad denoiser evaluation, for the `small` and
/// `tiny` presets. Sampling throughput is reported for EDM's deterministic 18-step Heun sampler, which costs 35
/// evaluations per image, so its items/call = 64/35 (the sampler's own arithmetic is negligible next to the net).
/// Before timing a training case, one step is measured for memory and printed: peak resident set above the
/// pre-step level (Linux VmHWM after resetting it via /proc/self/clear_refs; the same method in the peer) and, for
/// us, bytes the GC allocated during the step. Peer: bench/peers/diffusion.py (the spec-derived PyTorch reference).
/// </summary>
public sealed class DiffusionSuite : IBenchSuite
{
    private const int Batch = 64;
    private const int HeunNfe = 35;

    public string Name => "diffusion";
    public string Description => "SongUNet small/tiny, 32x32x1, batch 64: train step (fwd+EDM loss+bwd+Adam) and 18-step Heun sampling img/s vs torch";
    public string? PeerScript => "diffusion.py";

    public IReadOnlyList<BenchCase> Cases { get; } =
    [
        new("small/train-b64", "small-train", null, () => Train(SongUNetOptions.Small()), Batch),
        new("small/sample-nfe-b64", "small-eval", null, () => Evaluate(SongUNetOptions.Small()), (double)Batch / HeunNfe),
        new("tiny/train-b64", "tiny-train", null, () => Train(SongUNetOptions.Tiny()), Batch),
        new("tiny/sample-nfe-b64", "tiny-eval", null, () => Evaluate(SongUNetOptions.Tiny()), (double)Batch / HeunNfe),
    ];

    private static Action Train(SongUNetOptions options)
    {
        // Each case measures its own recycled-tensor pool, not the previous case's.
        TensorArena.Trim();
        var step = new EdmTrainingStep(options, Batch);
        void Step() => step.Step();
        // Two warm-up steps (JIT, Adam state, pooled buffers), then one measured for memory from a compacted heap.
        Step();
        Step();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long live0 = GC.GetTotalMemory(forceFullCollection: true);
        long rss0 = MemoryProbe.ResetPeak();
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        // The product's step (TrainingPass: activations and gradients recycled through the TensorArena pool, which the
        // warm-up steps filled), so the peak below is what `cedm train` needs.
        Step();
        long alloc = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        long peak = MemoryProbe.PeakRss();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  memory {options.ModelChannels}ch train step: GC heap {live0 / 1e6:F0} MB live before, {TensorArena.PooledFloats * 4 / 1e6:F0} MB of recycled tensors pooled; " +
            $"GC allocated {alloc / 1e6:F0} MB in the step; peak RSS {peak / 1e6:F0} MB (+{(peak - rss0) / 1e6:F0} MB over the pre-step {rss0 / 1e6:F0} MB)"));
        return Step;
    }

    private static Action Evaluate(SongUNetOptions options)
    {
        var net = new EdmPrecond(options, new Rng(1)).Eval();
        var x = Tensor.Randn(new Rng(2), [Batch, options.InChannels, options.Resolution, options.Resolution], 0f, 5f);
        var sigma = Tensor.Full(5f, Batch);
        return () =>
        {
            using var _ = GradMode.NoGrad();
            net.Denoise(x, sigma);
        };
    }
}

/// <summary>Peak resident set size on Linux: reset with /proc/self/clear_refs ("5"), read VmHWM/VmRSS from /proc/self/status.</summary>
internal static class MemoryProbe
{
    /// <summary>Resets the peak to the current RSS (when the kernel allows it) and returns the current RSS in bytes.</summary>
    public static long ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return Read("VmRSS:");
    }

    public static long PeakRss() => Read("VmHWM:");

    private static long Read(string key)
    {
        if (!File.Exists("/proc/self/status")) return Environment.WorkingSet;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return Environment.WorkingSet;
    }
}
