using Cedm.Data;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Networks;
using Cedm.Distributed;
using Cedm.Nn;
using Cedm.Nn.Optim;
using Cedm.Tensors;

namespace Cedm.Diffusion.Training;

/// <summary>The outcome of one optimiser step.</summary>
public readonly record struct TrainStep(long Step, long CurNimg, double Loss, double Lr);

/// <summary>
/// EDM's training step (spec §1.3–1.4) on an <see cref="EdmPrecond"/>: batch from <see cref="DataOrder"/>, optional
/// x-flip and condition dropout, <see cref="EdmLoss"/>, backward, NaN/Inf check, gradient sanitising, Adam with the
/// linear warm-up, then the EMA. All randomness after initialisation comes from one run generator whose state is
/// part of the checkpoint, so a resumed run repeats an uninterrupted one bit for bit.
/// Per step the generator draws, per image: the flip (if enabled), the condition drop (if p_uncond > 0); then the
/// loss's σ and noise, then dropout masks.
/// A coherence-aware network (related-seeds C.1, D.1) gets each image's coherence score with its condition; a dropped
/// condition goes with c = 0. Coherence adds no draws, so the generator sequence is that of the same run without it.
/// A feature-conditioned network (related-seeds B.3) gets each image's condition vector from its
/// <see cref="FeatureSource"/> right after the drop decision (zeros when dropped); only the "draw" mode consumes
/// numbers (r + d normals per undropped image).
/// An image-conditioned network (related-seeds A′.1) gets, per batch, a leaf and a condition image per image from its
/// <see cref="IImageConditionSource"/>, drawn for the whole batch after the per-image flips and drops and before σ; the
/// leaf enters as the one-hot label (a net with label dimension K), the image through the extra input channels; a
/// dropped condition is the zero image with the zero label row.
/// </summary>
public sealed class EdmTrainer
{
    private readonly ImageDataset _data;
    private readonly DataOrder _order;
    private readonly EdmLoss _loss = new();
    private readonly float[]? _coherence;
    private readonly FeatureSource? _features;
    private readonly IImageConditionSource? _images;
    private Rng _rng;
    private readonly ICommunicator _comm;
    private readonly GradientAllReduce? _allReduce;

    /// <param name="coherence">Pre-processed coherence score per training image (dataset order), required exactly
    /// when <paramref name="network"/> has <see cref="SongUNetOptions.Coherence"/>.</param>
    /// <param name="features">The continuous condition per image (related-seeds B.3), required exactly when
    /// <paramref name="network"/> has <see cref="SongUNetOptions.FeatureDim"/> &gt; 0 (its dimension must match).</param>
    /// <param name="communicator">The job to train data-parallel in (default: a single process).</param>
    /// <param name="images">The condition source of an image-conditioned network (related-seeds A′.1), required exactly
    /// when <paramref name="network"/> has <see cref="SongUNetOptions.ConditionChannels"/> &gt; 0; its leaves are the
    /// labels then, so <paramref name="labels"/> must be <see cref="LabelSource.None"/>.</param>
    public EdmTrainer(SongUNetOptions network, ImageDataset data, LabelSource labels, TrainingOptions options, float[]? coherence = null, FeatureSource? features = null,
        ICommunicator? communicator = null, IImageConditionSource? images = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        CheckImageSource(network, labels, images);
        if (images == null && network.LabelDim != labels.Dim) throw new ArgumentException($"The network has label dimension {network.LabelDim}; the labels have rows of {labels.Dim}.");
        if (network.InChannels != data.Channels || network.Resolution != data.Height || data.Height != data.Width)
            throw new ArgumentException($"The network expects {network.Resolution}x{network.Resolution}x{network.InChannels} images; {data.Name} has {data.Height}x{data.Width}x{data.Channels}.");
        if (labels.Ids != null && labels.Ids.Length != data.Count) throw new ArgumentException($"{labels.Ids.Length} labels for {data.Count} images.");
        if (network.Coherence != (coherence != null))
            throw new ArgumentException(network.Coherence ? "The network is coherence-aware; give a coherence score per image." : "Coherence scores need a network built with coherence on.");
        if (coherence != null)
            Coherence.CoherenceScores.Check(coherence, data.Count, "coherence");
        if ((network.FeatureDim > 0) != (features != null) || (features != null && features.Dimension != network.FeatureDim))
            throw new ArgumentException($"The network's feature dimension is {network.FeatureDim}; the feature source's {features?.Dimension ?? 0}.");
        if (features != null && features.Count != data.Count) throw new ArgumentException($"{features.Count} feature conditions for {data.Count} images.");
        _features = features;
        _images = images;
        Network = network; _data = data; Labels = labels; Options = options; _coherence = coherence;
        Net = new EdmPrecond(network, new Rng(unchecked((ulong)options.Seed)));
        Ema = new EdmPrecond(network, new Rng(0UL));
        Ema.LoadStateDict(Net.StateDict());
        Ema.SetTraining(false);
        Optimizer = new Adam(Net.Parameters(), new AdamOptions(Lr: options.Lr));
        EmaUpdater = new EdmEma(Net, Ema, new EdmEmaOptions(options.EmaHalflifeKimg, options.EmaRampupRatio));
        _order = new DataOrder(data.Count, options.Seed);
        _rng = new Rng(unchecked((ulong)options.Seed ^ 0x7261696E5F726E67UL));
        _comm = communicator ?? SingleProcess.Instance;
        if (_comm.Size > 1)
        {
            if (options.Batch < _comm.Size)
                throw new SettingException(nameof(options.Batch), $"a batch of {options.Batch} cannot be split over {_comm.Size} ranks; give at least one image per rank");
            _allReduce = new GradientAllReduce(_comm, Net.Parameters());
        }
    }

    private static void CheckImageSource(SongUNetOptions network, LabelSource labels, IImageConditionSource? images)
    {
        int cc = network.ConditionChannels;
        if (images == null)
        {
            if (cc > 0) throw new ArgumentException($"The network has {cc} condition channel(s); give an image condition source.", nameof(images));
            return;
        }
        if (cc == 0) throw new ArgumentException("An image condition source needs a network built with condition channels (condition_channels 0).", nameof(images));
        if (images.Channels != cc) throw new ArgumentException($"The network has {cc} condition channel(s); the image condition source gives {images.Channels}.", nameof(images));
        if (images.LeafCount < 1) throw new ArgumentException($"The image condition source declares {images.LeafCount} leaves; at least 1 is needed.", nameof(images));
        if (labels.K != 0) throw new ArgumentException($"An image-conditioned run takes its leaf ids from the condition source; give no labels (got '{labels.Mode}').", nameof(labels));
        if (network.LabelDim != 0 && network.LabelDim != images.LeafCount)
            throw new ArgumentException($"The network has label dimension {network.LabelDim}; the image condition source has {images.LeafCount} leaves (the label dimension must be the leaf count, or 0).", nameof(images));
    }

    /// <summary>The job this trainer runs in.</summary>
    public ICommunicator Communicator => _comm;

    /// <summary>Seconds the last step spent averaging gradients over ranks (0 in a single process), mostly during backward.</summary>
    public double LastAllReduceSeconds => _allReduce?.LastSeconds ?? 0;

    /// <summary>Seconds the last step waited for the gradient all-reduce after backward (the part backward did not hide).</summary>
    public double LastAllReduceWaitSeconds => _allReduce?.LastWaitSeconds ?? 0;

    /// <summary>Seconds the last step spent in forward and backward.</summary>
    public double LastComputeSeconds { get; private set; }

    /// <summary>
    /// Makes every rank start from rank 0's state: rank 0's network parameters are broadcast, and its step, image
    /// count and generator state are compared with every rank's (ranks that resumed read the same checkpoint for the
    /// Adam state; this catches a rank that loaded another one). Call once on every rank before the first step; a no-op in a single process.
    /// </summary>
    public void SynchronizeFromRoot()
    {
        if (_comm.Size == 1) return;
        foreach (var p in Net.Parameters()) _comm.Broadcast(p.Data.AsSpan());
        var rngState = _rng.GetState();
        var bytes = new byte[rngState.Length * 8 + 16];
        for (int i = 0; i < rngState.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), rngState[i]);
        BitConverter.TryWriteBytes(bytes.AsSpan(rngState.Length * 8), CurNimg);
        BitConverter.TryWriteBytes(bytes.AsSpan(rngState.Length * 8 + 8), Step);
        var mine = (byte[])bytes.Clone();
        _comm.Broadcast(bytes);
        if (!bytes.AsSpan().SequenceEqual(mine))
            throw new InvalidOperationException($"rank {_comm.Rank} resumed from another state than rank 0 (step {Step}, {CurNimg} images vs rank 0's step {BitConverter.ToInt64(bytes, rngState.Length * 8 + 8)}); do all ranks see the same run folder?");
    }

    public SongUNetOptions Network { get; }
    public LabelSource Labels { get; }
    public TrainingOptions Options { get; }
    public EdmPrecond Net { get; }
    public EdmPrecond Ema { get; }
    public Adam Optimizer { get; }
    public EdmEma EmaUpdater { get; }

    /// <summary>Images trained on so far (EDM's cur_nimg).</summary>
    public long CurNimg { get; private set; }

    /// <summary>The condition of the last step's batch (labels with dropped rows zeroed, coherence, features, image), for inspection.</summary>
    public Conditioning? LastCondition { get; private set; }

    /// <summary>Optimiser steps taken so far.</summary>
    public long Step { get; private set; }

    /// <summary>One optimiser step. Throws <see cref="TrainingDivergedException"/> (weights untouched) if the loss is not finite.</summary>
    public TrainStep TrainOneStep() => _comm.Size > 1 ? TrainOneStepDistributed() : TrainOneStepLocal();

    // Root-to-leaf node path of each condition id, for path truncation (built on first use).
    private int[][]? _leafPaths;

    /// <summary>
    /// The condition row of training image <paramref name="index"/>: its label's row, or with
    /// <see cref="TrainingOptions.PathTruncation"/> q in a path-conditioned run, with probability q the partial path
    /// to an ancestor drawn uniformly from the root to the leaf's parent (related-seeds D.3). Those two draws come from
    /// the run generator on every rank, only when q &gt; 0, so runs without truncation keep their generator sequence.
    /// </summary>
    private void WriteConditionRow(int index, Span<float> row, bool mine)
    {
        int id = Labels.Ids![index];
        if (Options.PathTruncation > 0 && Labels.Tree is { } tree)
        {
            double cut = _rng.NextDouble(), level = _rng.NextDouble();
            _leafPaths ??= Labels.Used.Select(cluster => tree.Path(tree.LeafOfCluster[cluster])).ToArray();
            var path = _leafPaths[id];
            if (cut < Options.PathTruncation && path.Length > 1)   // a leaf at the root has no ancestor to stop at
            {
                if (mine) tree.WriteRow(path[Math.Min((int)(level * (path.Length - 1)), path.Length - 2)], row);
                return;
            }
        }
        if (mine) Labels.WriteRow(id, row);
    }

    private TrainStep TrainOneStepLocal()
    {
        int b = Options.Batch, c = _data.Channels, h = _data.Height, w = _data.Width, size = _data.ImageSize;
        var x = new float[(long)b * size];
        int dim = Network.LabelDim;
        float[]? onehot = dim > 0 ? new float[b * dim] : null;
        float[]? coherence = _coherence != null ? new float[b] : null;
        int fd = _features?.Dimension ?? 0;
        float[]? feats = _features != null ? new float[b * fd] : null;
        var rows = new int[b];
        bool[] flipped = new bool[b], dropped = new bool[b];
        for (int i = 0; i < b; i++)
        {
            int index = rows[i] = _order.At(CurNimg + i);
            var img = x.AsSpan(i * size, size);
            _data.ToTrainingRange(index, 1, img);
            flipped[i] = Options.XFlip && _rng.NextDouble() < 0.5;
            if (flipped[i]) FlipHorizontally(img, c, h, w);
            if (onehot != null || feats != null || _images != null)
            {
                bool drop = dropped[i] = Options.PUncond > 0 && _rng.NextDouble() < Options.PUncond;
                if (!drop && onehot != null && _images == null) WriteConditionRow(index, onehot.AsSpan(i * dim, dim), mine: true);
                if (!drop && feats != null) _features!.Fill(index, _rng, feats.AsSpan(i * fd, fd));   // dropped: the zero vector
                if (coherence != null) coherence[i] = drop ? 0f : _coherence![index];   // C.1: null condition ⇒ c = 0
            }
        }
        var image = _images == null ? null : ImageConditionBatch.Draw(_images, rows, _rng, 0, b, flipped, dropped, onehot, dim, h, w);
        double lr = LrSchedule.EdmWarmup(Options.Lr, CurNimg, Options.LrRampupKimg);
        Optimizer.SetLr(lr);
        Optimizer.ZeroGrad();
        Net.SetTraining(true);
        var condition = onehot == null && feats == null && image == null ? null : new Conditioning(onehot == null ? null : new Tensor(onehot, b, dim),
            coherence == null ? null : new Tensor(coherence, b), feats == null ? null : new Tensor(feats, b, fd), image);
        LastCondition = condition;
        double value = TrainingPass.Run(() => _loss.Compute(Net, new Tensor(x, b, c, h, w), condition, _rng), Net.Parameters(), v =>
        {
            if (!double.IsFinite(v))
                throw new TrainingDivergedException($"the training loss became {v} at step {Step} ({CurNimg / 1000.0:F3} kimg)", Step, CurNimg);
        });
        GradientUtils.SanitizeGradients(Net.Parameters());
        Optimizer.Step();
        EmaUpdater.Update(CurNimg, b);
        CurNimg += b;
        Step++;
        return new TrainStep(Step, CurNimg, value, lr);
    }

    /// <summary>
    /// The data-parallel step: the global batch's draws in the single-process order (per image flip and drop, then σ
    /// and noise for all b images), this rank's slice of them, the loss of the slice, a collective check that the
    /// global loss is finite (all ranks stop together), backward with the weighted gradient sum of each finished bucket
    /// started on a communication thread, the wait for the last buckets, then the same Adam step on every rank.
    /// </summary>
    private TrainStep TrainOneStepDistributed()
    {
        int b = Options.Batch, c = _data.Channels, h = _data.Height, w = _data.Width, size = _data.ImageSize;
        var (lo, hi) = _comm.Shard(b);
        int n = hi - lo;
        var x = new float[(long)n * size];
        int dim = Network.LabelDim;
        float[]? onehot = dim > 0 ? new float[n * dim] : null;
        float[]? coherence = _coherence != null ? new float[n] : null;
        int fd = _features?.Dimension ?? 0;
        float[]? feats = _features != null ? new float[n * fd] : null;
        var otherFeats = new float[fd];   // another rank's draw, made only to keep the generator in step
        var rows = new int[b];
        bool[] flipped = new bool[b], dropped = new bool[b];
        for (int i = 0; i < b; i++)
        {
            int index = rows[i] = _order.At(CurNimg + i);
            bool mine = i >= lo && i < hi;
            var img = mine ? x.AsSpan((i - lo) * size, size) : default;
            if (mine) _data.ToTrainingRange(index, 1, img);
            bool flip = flipped[i] = Options.XFlip && _rng.NextDouble() < 0.5;
            if (mine && flip) FlipHorizontally(img, c, h, w);
            if (onehot != null || feats != null || _images != null)
            {
                bool drop = dropped[i] = Options.PUncond > 0 && _rng.NextDouble() < Options.PUncond;
                if (!drop && onehot != null && _images == null) WriteConditionRow(index, mine ? onehot.AsSpan((i - lo) * dim, dim) : default, mine);
                if (!drop && feats != null) _features!.Fill(index, _rng, mine ? feats.AsSpan((i - lo) * fd, fd) : otherFeats);
                if (mine && coherence != null) coherence[i - lo] = drop ? 0f : _coherence![index];
            }
        }
        // Every rank draws the whole batch's conditions, so the run generator stays in step with the single-process run.
        var image = _images == null ? null : ImageConditionBatch.Draw(_images, rows, _rng, lo, hi, flipped, dropped, onehot, dim, h, w);
        var sigmaAll = new float[b];
        for (int i = 0; i < b; i++) sigmaAll[i] = (float)Math.Exp(_rng.NextNormal() * _loss.Options.PStd + _loss.Options.PMean);
        var noiseAll = new float[(long)b * size];
        _rng.FillNormal(noiseAll);
        // Dropout draws per element of the local batch, so they cannot follow the single-process sequence; they come
        // from a generator forked per step and rank (one draw of the run generator, only when dropout is on).
        var dropoutRng = Network.Dropout > 0 ? new Rng(_rng.NextUInt64() ^ unchecked((ulong)(_comm.Rank + 1) * 0x9E3779B97F4A7C15UL)) : _rng;
        double lr = LrSchedule.EdmWarmup(Options.Lr, CurNimg, Options.LrRampupKimg);
        Optimizer.SetLr(lr);
        Optimizer.ZeroGrad();
        Net.SetTraining(true);
        var condition = onehot == null && feats == null && image == null ? null : new Conditioning(onehot == null ? null : new Tensor(onehot, n, dim),
            coherence == null ? null : new Tensor(coherence, n), feats == null ? null : new Tensor(feats, n, fd), image);
        LastCondition = condition;
        float weight = (float)n / b;
        double global = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TrainingPass.Run(() => _loss.Compute(Net, new Tensor(x, n, c, h, w), condition, new Tensor(sigmaAll[lo..hi], n),
            new Tensor(noiseAll.AsSpan(lo * size, n * size).ToArray(), n, c, h, w), null, dropoutRng), Net.Parameters(), v =>
        {
            Span<double> total = [double.IsFinite(v) ? v * weight : double.NaN];
            _comm.AllReduceSum(total);
            global = total[0];
            if (!double.IsFinite(global))
                throw new TrainingDivergedException($"the training loss became {global} at step {Step} ({CurNimg / 1000.0:F3} kimg)", Step, CurNimg);
            _allReduce!.BeginStep(weight);   // from here each bucket is reduced as soon as backward has finished it
        }, _allReduce!.GradientReady);
        LastComputeSeconds = clock.Elapsed.TotalSeconds;
        _allReduce.EndStep();
        GradientUtils.SanitizeGradients(Net.Parameters());
        Optimizer.Step();
        if (_comm.IsRoot()) EmaUpdater.Update(CurNimg, b);
        CurNimg += b;
        Step++;
        return new TrainStep(Step, CurNimg, global, lr);
    }

    private static void FlipHorizontally(Span<float> img, int c, int h, int w)
    {
        for (int row = 0; row < c * h; row++) img.Slice(row * w, w).Reverse();
    }

    // ---- checkpoints -------------------------------------------------------------------------------------------

    /// <summary>The complete training state: weights, EMA, Adam state, generator state and counters.</summary>
    public CheckpointState Capture() => new(Net.StateDict(), Ema.StateDict(), Optimizer.StateDict(), _rng.GetState(), CurNimg, Step);

    /// <summary>Restores a state from <see cref="Capture"/> (or <see cref="Checkpoint.Load"/>) exactly.</summary>
    public void Restore(CheckpointState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Net.LoadStateDict(state.Net);
        Ema.LoadStateDict(state.Ema);
        Optimizer.LoadStateDict(state.Optimizer);
        _rng = Rng.FromState(state.RngState);
        CurNimg = state.CurNimg;
        Step = state.Step;
    }
}

/// <summary>The loss became NaN or infinite; the step was not applied.</summary>
public sealed class TrainingDivergedException(string message, long step, long curNimg) : Exception(message)
{
    public long Step { get; } = step;
    public long CurNimg { get; } = curNimg;
}
