using System.Diagnostics;
using System.Globalization;
using Cedm.Benchmarks.Harness;
using Cedm.Diffusion.Networks;
using Cedm.Tensors;
using Cedm.Nn;
using Cedm.Tensors.Autograd;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// Where a training step's time goes: the product's configuration (`cedm run` trains the tiny preset, 32×32×1,
/// batch 32) and the small preset, each profiled per op over a few steps (<see cref="OpProfiler"/>: forward =
/// time since the previous recorded op, backward = the op's chain rule), with the optimiser step and the GC
/// pauses as separate rows, then timed as a whole step. No peer (see suite "diffusion" for the torch comparison).
/// </summary>
public sealed class TrainProfileSuite : IBenchSuite
{
    private const int Batch = 32;
    private const int ProfiledSteps = 3;

    public string Name => "trainprofile";
    public string Description => "SongUNet tiny/small, 32x32x1, batch 32: per-op time breakdown of a training step, then step img/s";
    public string? PeerScript => null;

    public IReadOnlyList<BenchCase> Cases { get; } =
    [
        new("tiny/train-b32", null, null, () => Setup(SongUNetOptions.Tiny()), Batch),
        new("small/train-b32", null, null, () => Setup(SongUNetOptions.Small()), Batch),
        new("tiny/eval-b64", null, null, () => SetupEval(SongUNetOptions.Tiny()), EvalBatch),
        new("small/eval-b64", null, null, () => SetupEval(SongUNetOptions.Small()), EvalBatch),
        new("temi/step-b1024", null, null, SetupTemi, 2 * TemiBatch),
    ];

    private const int TemiBatch = 1024;

    /// <summary>
    /// One TEMI step at the default (cpu) preset on 2 × 1 024 rows of 512-d features, K = 100 (the bench "temi" epoch's
    /// step): per op, with the teacher forward, student forward + loss, backward, AdamW and the EMA timed apart.
    /// </summary>
    private static Action SetupTemi()
    {
        const int d = 512, k = 100;
        var o = Cedm.Clustering.Temi.TemiOptions.CpuDefault();
        var rng = new Rng(0);
        var student = new Cedm.Clustering.Temi.TemiHeads(d, k, o.Heads, o.Hidden, o.Bottleneck, rng);
        var teacher = new Cedm.Clustering.Temi.TemiHeads(d, k, o.Heads, o.Hidden, o.Bottleneck, new Rng(0));
        var optimizer = new Cedm.Nn.Optim.AdamW(Cedm.Nn.Optim.ParamGroups.DecayAndNoDecay(student.NamedParameters(), o.WeightDecay),
            new Cedm.Nn.Optim.AdamOptions(Lr: 1e-4));
        var loss = new Cedm.Clustering.Temi.TemiLoss(o.Heads, k, o.Beta, o.StudentTemperature, o.TeacherTemperature, o.PriorMomentum);
        var step = new Cedm.Clustering.Temi.TemiStep(student, teacher, optimizer, loss);
        var x = Tensor.Randn(new Rng(1), [2 * TemiBatch, d]);
        void Step() => step.Run(x, 1e-4, false, 0.996);
        Step();
        Step();
        long f = Stopwatch.Frequency;
        long gcAlloc0 = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan gc0 = GC.GetTotalPauseDuration();
        OpProfiler.ByShape = Environment.GetEnvironmentVariable("CEDM_PROFILE_SHAPES") == "1";
        OpProfiler.Start();
        long t0 = Stopwatch.GetTimestamp();
        for (int s = 0; s < ProfiledSteps; s++) { OpProfiler.Mark(); Step(); }
        double total = (Stopwatch.GetTimestamp() - t0) * 1000.0 / f / ProfiledSteps;
        var times = OpProfiler.Stop();
        var w = Console.Out;
        w.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  profile TEMI step, mean of {ProfiledSteps}: {total:F1} ms; GC pauses {(GC.GetTotalPauseDuration() - gc0).TotalMilliseconds / ProfiledSteps:F1} ms/step, allocated {(GC.GetTotalAllocatedBytes(precise: true) - gcAlloc0) / 1e6 / ProfiledSteps:F0} MB/step"));
        w.WriteLine("    op                       calls  fwd ms   bwd ms   share");
        foreach (var (op, t) in times.OrderByDescending(kv => kv.Value.ForwardTicks + kv.Value.BackwardTicks).Take(30))
        {
            double fm = t.ForwardTicks * 1000.0 / f / ProfiledSteps, bm = t.BackwardTicks * 1000.0 / f / ProfiledSteps;
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {op,-24} {t.ForwardCalls / ProfiledSteps,5} {fm,7:F1} {bm,8:F1} {100 * (fm + bm) / total,6:F1}%"));
        }
        return Step;
    }

    private const int EvalBatch = 64;

    /// <summary>One no-grad denoiser evaluation at batch 64 (a sampler step's network call), profiled per op.</summary>
    private static Action SetupEval(SongUNetOptions options)
    {
        var net = new Cedm.Diffusion.EdmPrecond(options, new Rng(1)).Eval();
        var x = Tensor.Randn(new Rng(2), [EvalBatch, options.InChannels, options.Resolution, options.Resolution], 0f, 5f);
        var sigma = Tensor.Full(5f, EvalBatch);
        void Eval() { using var _ = GradMode.NoGrad(); net.Denoise(x, sigma); }
        Eval();
        Eval();
        long f = Stopwatch.Frequency;
        OpProfiler.ByShape = Environment.GetEnvironmentVariable("CEDM_PROFILE_SHAPES") == "1";
        OpProfiler.Start();
        long t0 = Stopwatch.GetTimestamp();
        for (int s = 0; s < ProfiledSteps; s++) { OpProfiler.Mark(); Eval(); }
        double total = (Stopwatch.GetTimestamp() - t0) * 1000.0 / f / ProfiledSteps;
        var times = OpProfiler.Stop();
        var w = Console.Out;
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  profile {options.ModelChannels}ch eval b{EvalBatch}, mean of {ProfiledSteps}: {total:F1} ms"));
        w.WriteLine("    op                       calls  fwd ms   share");
        foreach (var (op, t) in times.OrderByDescending(kv => kv.Value.ForwardTicks).Take(30))
        {
            double ms = t.ForwardTicks * 1000.0 / f / ProfiledSteps;
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {op,-24} {t.ForwardCalls / ProfiledSteps,5} {ms,7:F1} {100 * ms / total,6:F1}%"));
        }
        return Eval;
    }

    private static Action Setup(SongUNetOptions options)
    {
        var step = new EdmTrainingStep(options, Batch);
        var (net, images, opt, loss, rng) = (step.Net, step.Images, step.Optimizer, step.Loss, step.Rng);
        void Step() => step.Step();
        Step();
        Step();

        long f = Stopwatch.Frequency;
        double Ms(long ticks) => ticks * 1000.0 / f / ProfiledSteps;
        TimeSpan gc0 = GC.GetTotalPauseDuration();
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        long total = 0, fwd = 0, bwd = 0, optTicks = 0;
        // CEDM_PROFILE_SHAPES=1: one row per op and operand shapes (which conv layers cost most).
        OpProfiler.ByShape = Environment.GetEnvironmentVariable("CEDM_PROFILE_SHAPES") == "1";
        OpProfiler.Start();
        for (int s = 0; s < ProfiledSteps; s++)
        {
            long t0 = Stopwatch.GetTimestamp();
            opt.ZeroGrad();
            OpProfiler.Mark();
            long t1, t2;
            // As TrainingPass (the product's step), with the forward and backward timed apart.
            using (var arena = TensorArena.Begin())
            {
                var l = loss.Compute(net, images, null, rng);
                t1 = Stopwatch.GetTimestamp();
                l.Backward();
                t2 = Stopwatch.GetTimestamp();
                foreach (var p in net.Parameters()) if (p.Grad != null) arena.Keep(p.Grad);
            }
            opt.Step();
            long t3 = Stopwatch.GetTimestamp();
            total += t3 - t0; fwd += t1 - t0; bwd += t2 - t1; optTicks += t3 - t2;
        }
        var times = OpProfiler.Stop();
        double gcMs = (GC.GetTotalPauseDuration() - gc0).TotalMilliseconds / ProfiledSteps;
        long alloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc0) / ProfiledSteps;

        var w = Console.Out;
        w.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  profile {options.ModelChannels}ch b{Batch}, mean of {ProfiledSteps} steps: step {Ms(total):F1} ms (forward {Ms(fwd):F1}, backward {Ms(bwd):F1}, Adam {Ms(optTicks):F1}); " +
            $"GC pauses {gcMs:F1} ms/step (gen0/1/2 {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}), allocated {alloc / 1e6:F0} MB/step"));
        w.WriteLine("    op                       calls  fwd ms   bwd ms   total ms   share");
        foreach (var (op, t) in times.OrderByDescending(kv => kv.Value.ForwardTicks + kv.Value.BackwardTicks).Take(40))
        {
            double tot = Ms(t.ForwardTicks + t.BackwardTicks);
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {op,-24} {t.ForwardCalls / ProfiledSteps,5} {Ms(t.ForwardTicks),7:F1} {Ms(t.BackwardTicks),8:F1} {tot,10:F1} {100 * tot / Ms(total),6:F1}%"));
        }
        return Step;
    }
}
