using System.Diagnostics;
using System.Text.Json.Nodes;
using Cedm.Distributed;
using Cedm.IO;

namespace Cedm.Diffusion.Training;

/// <summary>Progress of a run, reported after every step.</summary>
public readonly record struct TrainingProgress(long Step, long CurNimg, long TargetNimg, double Loss, double ImagesPerSecond, double Seconds);

/// <summary>How a run ended.</summary>
public sealed record TrainingSummary(long Step, long CurNimg, double LastLoss, double Seconds, string Checkpoint, string StoppedBy);

/// <summary>
/// The training loop around <see cref="EdmTrainer"/> in a run folder: budget (absolute kimg and/or this invocation's
/// minutes), a log.jsonl line every <see cref="TrainingOptions.LogKimg"/> (kimg, step, loss = mean since the last
/// line, lr, img_per_s, seconds), atomic checkpoints every <see cref="TrainingOptions.CheckpointKimg"/> and at the
/// end (the newest <see cref="TrainingOptions.KeepCheckpoints"/> kept), and resume from the latest checkpoint. A
/// non-finite loss stops the run with <see cref="TrainingDivergedException"/>; nothing is saved after it, so the
/// last checkpoint is the last good state.
/// <para>Data-parallel (docs/distributed.md): every rank runs this loop on its <see cref="EdmTrainer"/>; rank 0 alone
/// writes the log and the checkpoints and decides when the minutes are up (a one-byte broadcast per step, so all
/// ranks stop after the same step). On resume every rank reads the latest checkpoint (the run folder must be shared),
/// then <see cref="EdmTrainer.SynchronizeFromRoot"/> checks they agree. Distributed log lines add the rank count and
/// per step the mean all-reduce time, the part of it waited for after backward, and forward + backward time.</para>
/// </summary>
public static class TrainingRun
{
    public const string LogFile = "log.jsonl";

    public static TrainingSummary Train(EdmTrainer trainer, string runDir, bool resume = false, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var o = trainer.Options;
        o.Validate();
        var comm = trainer.Communicator;
        bool root = comm.IsRoot(), distributed = comm.Size > 1;
        if (!root) progress = null;
        if (root) Directory.CreateDirectory(Path.Combine(runDir, Checkpoint.Folder));
        string logPath = Path.Combine(runDir, LogFile);
        double priorSeconds = 0;
        string lastCheckpoint = "";
        if (resume)
        {
            var latest = Checkpoint.Latest(runDir) ?? throw new FileNotFoundException($"{runDir} has no {Checkpoint.PointerFile}: nothing to resume");
            try { trainer.Restore(Checkpoint.Load(latest.Path)); }
            catch (Cedm.Nn.StateDictException e)
            {
                throw new InvalidDataException($"{latest.Path}: does not fit the run's network and optimiser (config.json): {e.Message}", e);
            }
            priorSeconds = latest.Seconds;
            lastCheckpoint = latest.Path;
            if (root) TruncateLog(logPath, trainer.CurNimg);
        }
        else if (root && File.Exists(logPath)) File.Delete(logPath);
        trainer.SynchronizeFromRoot();

        long target = o.Kimg is double k ? (long)Math.Round(k * 1000) : long.MaxValue;
        long ckptEvery = Math.Max(1, (long)Math.Round(o.CheckpointKimg * 1000)), logEvery = Math.Max(1, (long)Math.Round(o.LogKimg * 1000));
        long nextCkpt = (trainer.CurNimg / ckptEvery + 1) * ckptEvery, nextLog = (trainer.CurNimg / logEvery + 1) * logEvery;
        var clock = Stopwatch.StartNew();
        double lossSum = 0, lastLoss = double.NaN, lastLr = 0;
        int lossCount = 0;
        long logStartNimg = trainer.CurNimg;
        double logStartSeconds = 0;
        bool savedAtEnd = false;
        string stoppedBy = "kimg";
        double reduceSum = 0, waitSum = 0, computeSum = 0;
        using var log = root ? RegularFile.OpenText(logPath, append: true) : StreamWriter.Null;

        while (trainer.CurNimg < target)
        {
            bool timeUp = o.Minutes is double m && clock.Elapsed.TotalMinutes >= m;
            if (distributed && o.Minutes is not null) timeUp = comm.BroadcastFlag(timeUp);
            if (timeUp) { stoppedBy = "minutes"; break; }
            TrainStep step;
            try
            {
                step = trainer.TrainOneStep();
            }
            catch (TrainingDivergedException e)
            {
                log.WriteLine(new JsonObject { ["event"] = "diverged", ["step"] = e.Step, ["cur_nimg"] = e.CurNimg, ["kimg"] = e.CurNimg / 1000.0 }.ToJsonString());
                log.Flush();
                string keep = lastCheckpoint.Length > 0 ? $"the last good checkpoint is {lastCheckpoint}" : "no checkpoint was written before it";
                throw new TrainingDivergedException($"{e.Message}; training stopped, {keep} (try a lower learning rate or a longer warm-up)", e.Step, e.CurNimg);
            }
            savedAtEnd = false;
            reduceSum += trainer.LastAllReduceSeconds; waitSum += trainer.LastAllReduceWaitSeconds; computeSum += trainer.LastComputeSeconds;
            lossSum += step.Loss; lossCount++; lastLoss = step.Loss; lastLr = step.Lr;
            double seconds = clock.Elapsed.TotalSeconds;
            progress?.Report(new TrainingProgress(step.Step, step.CurNimg, target, step.Loss,
                (step.CurNimg - logStartNimg) / Math.Max(seconds - logStartSeconds, 1e-9), priorSeconds + seconds));
            if (step.CurNimg >= nextLog)
            {
                WriteLogLine(log, step, lossSum / lossCount, (step.CurNimg - logStartNimg) / Math.Max(seconds - logStartSeconds, 1e-9), priorSeconds + seconds,
                    distributed ? (comm.Size, reduceSum / lossCount, waitSum / lossCount, computeSum / lossCount) : null);
                lossSum = 0; lossCount = 0; reduceSum = 0; waitSum = 0; computeSum = 0; logStartNimg = step.CurNimg; logStartSeconds = seconds;
                while (nextLog <= step.CurNimg) nextLog += logEvery;
            }
            if (step.CurNimg >= nextCkpt)
            {
                if (root) lastCheckpoint = Save(trainer, runDir, priorSeconds + clock.Elapsed.TotalSeconds);
                savedAtEnd = true;
                while (nextCkpt <= step.CurNimg) nextCkpt += ckptEvery;
            }
        }
        double total = priorSeconds + clock.Elapsed.TotalSeconds;
        if (lossCount > 0)
            WriteLogLine(log, new TrainStep(trainer.Step, trainer.CurNimg, lastLoss, lastLr), lossSum / lossCount,
                (trainer.CurNimg - logStartNimg) / Math.Max(clock.Elapsed.TotalSeconds - logStartSeconds, 1e-9), total,
                distributed ? (comm.Size, reduceSum / lossCount, waitSum / lossCount, computeSum / lossCount) : null);
        if (root && !savedAtEnd && (trainer.Step > 0 || lastCheckpoint.Length == 0)) lastCheckpoint = Save(trainer, runDir, total);
        return new TrainingSummary(trainer.Step, trainer.CurNimg, lastLoss, total, lastCheckpoint, stoppedBy);
    }

    private static string Save(EdmTrainer trainer, string runDir, double seconds)
    {
        string rel = Path.Combine(Checkpoint.Folder, Checkpoint.FileName(trainer.CurNimg));
        string full = Path.Combine(runDir, rel);
        Checkpoint.Save(full, trainer.Capture());
        Checkpoint.WritePointer(runDir, rel, trainer.CurNimg, trainer.Step, seconds);
        var old = Directory.GetFiles(Path.Combine(runDir, Checkpoint.Folder), "ckpt-*.safetensors")
            .Order(StringComparer.Ordinal).ToArray();
        foreach (var f in old.Take(Math.Max(0, old.Length - trainer.Options.KeepCheckpoints)))
            if (!string.Equals(Path.GetFullPath(f), Path.GetFullPath(full), StringComparison.Ordinal)) File.Delete(f);
        return full;
    }

    private static void WriteLogLine(StreamWriter log, TrainStep step, double loss, double imagesPerSecond, double seconds,
        (int Ranks, double AllReduceSeconds, double WaitSeconds, double ComputeSeconds)? distributed = null)
    {
        var line = new JsonObject
        {
            ["kimg"] = step.CurNimg / 1000.0,
            ["cur_nimg"] = step.CurNimg,
            ["step"] = step.Step,
            ["loss"] = loss,
            ["lr"] = step.Lr,
            ["img_per_s"] = Math.Round(imagesPerSecond, 2),
            ["seconds"] = Math.Round(seconds, 3),
        };
        if (distributed is { } d)
        {
            line["ranks"] = d.Ranks;
            line["allreduce_ms"] = Math.Round(d.AllReduceSeconds * 1000, 3);
            line["allreduce_wait_ms"] = Math.Round(d.WaitSeconds * 1000, 3);
            line["compute_ms"] = Math.Round(d.ComputeSeconds * 1000, 3);
        }
        log.WriteLine(line.ToJsonString());
        log.Flush();
    }

    /// <summary>Drops log lines past the checkpoint a run resumes from, so the log reads as one uninterrupted run.</summary>
    private static void TruncateLog(string logPath, long curNimg)
    {
        if (RegularFile.RemoveLink(logPath) || !File.Exists(logPath)) return;
        var keep = File.ReadAllLines(logPath).Where(l =>
        {
            try { return (JsonNode.Parse(l)?["cur_nimg"]?.GetValue<long>() ?? long.MaxValue) <= curNimg; }
            catch (System.Text.Json.JsonException) { return false; }
        }).ToArray();
        AtomicFile.WriteAllBytes(logPath, System.Text.Encoding.UTF8.GetBytes(string.Concat(keep.Select(l => l + "\n"))), overwrite: true);
    }

    /// <summary>Parses a log.jsonl into its lines (for tests and reports).</summary>
    public static IReadOnlyList<JsonObject> ReadLog(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, LogFile)).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
}
