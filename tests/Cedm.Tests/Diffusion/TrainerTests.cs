using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Training;
using FluentAssertions;

namespace Cedm.Tests.Diffusion;

public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ResumedRunEqualsUninterruptedRunBitForBit()
    {
        var data = TrainingTestData.Patterns(6);
        var labels = LabelSource.FromLabels(data.Labels!);
        var net = TrainingTestData.Micro(labels.K);
        var options = TrainingTestData.Options(kimg: 0.064) with { XFlip = true, PUncond = 0.2 };   // 8 steps of 8 (epochs of 18 straddle batches)

        string whole = Path.Combine(_dir, "whole"), split = Path.Combine(_dir, "split");
        var a = new EdmTrainer(net, data, labels, options);
        var sa = TrainingRun.Train(a, whole);
        sa.Step.Should().Be(8);

        var b1 = new EdmTrainer(net, data, labels, options with { Kimg = 0.032 });
        TrainingRun.Train(b1, split).Step.Should().Be(4);
        var b2 = new EdmTrainer(net, data, labels, options);              // fresh trainer, different in-memory init path
        var sb = TrainingRun.Train(b2, split, resume: true);
        sb.Step.Should().Be(8);

        foreach (var (name, t) in a.Net.StateDict()) b2.Net.StateDict()[name].Data.Should().Equal(t.Data, $"net {name}");
        foreach (var (name, t) in a.Ema.StateDict()) b2.Ema.StateDict()[name].Data.Should().Equal(t.Data, $"ema {name}");
        var la = TrainingRun.ReadLog(whole).Select(l => l["loss"]!.GetValue<double>()).ToArray();
        var lb = TrainingRun.ReadLog(split).Select(l => l["loss"]!.GetValue<double>()).ToArray();
        lb.Should().Equal(la, "the log of the resumed run reads as the uninterrupted one");
        la.Should().HaveCount(4);
        // The checkpoint on disk restores the same state.
        var ckpt = Checkpoint.Load(Checkpoint.Latest(whole)!.Value.Path);
        ckpt.CurNimg.Should().Be(64);
        ckpt.Step.Should().Be(8);
        ckpt.Ema.Keys.Should().BeEquivalentTo(a.Ema.StateDict().Keys);
    }

    [Fact]
    public void NonFiniteLossStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint()
    {
        var data = TrainingTestData.Patterns(4);
        var net = TrainingTestData.Micro(0);
        // lr 1e30: step 0 has lr 0 (warm-up) and is checkpointed; the next steps blow the weights up.
        var options = TrainingTestData.Options(kimg: 1) with { Lr = 1e30, CheckpointKimg = 0.008, KeepCheckpoints = 100 };
        var trainer = new EdmTrainer(net, data, LabelSource.None, options);
        var act = () => TrainingRun.Train(trainer, _dir);
        var error = act.Should().Throw<TrainingDivergedException>().Which;
        error.Message.Should().Contain("loss became").And.Contain("last good checkpoint");
        var latest = Checkpoint.Latest(_dir)!.Value.Path;
        var state = Checkpoint.Load(latest);
        state.CurNimg.Should().BeLessThanOrEqualTo(error.CurNimg);
        state.Net.Values.Should().OnlyContain(t => t.AllFinite());
        Directory.GetFiles(Path.Combine(_dir, Checkpoint.Folder)).Select(Path.GetFileName)
            .Should().OnlyContain(f => string.CompareOrdinal(f, Checkpoint.FileName(error.CurNimg)) <= 0, "nothing is saved after the divergence");
        TrainingRun.ReadLog(_dir)[^1]["event"]!.GetValue<string>().Should().Be("diverged");
    }

    [Fact]
    public void DataOrderVisitsEveryImageOncePerEpochAndDependsOnlyOnTheCount()
    {
        var order = new DataOrder(10, 1);
        Enumerable.Range(0, 10).Select(i => order.At(i)).Should().BeEquivalentTo(Enumerable.Range(0, 10));
        Enumerable.Range(10, 10).Select(i => order.At(i)).Should().BeEquivalentTo(Enumerable.Range(0, 10));
        var fresh = new DataOrder(10, 1);
        fresh.At(13).Should().Be(order.At(13));
        Enumerable.Range(0, 10).Select(i => order.At(i)).Should().NotEqual(Enumerable.Range(10, 10).Select(i => order.At(i)));
    }

    [Fact]
    public void LabelsAreCompactedInSortedOrderAndTheMapIsSaved()
    {
        var src = LabelSource.FromLabels([40, 7, 40, 12, 7, 40]);
        src.Used.Should().Equal(7, 12, 40);
        src.Ids.Should().Equal(2, 0, 2, 1, 0, 2);
        src.Counts.Should().Equal(2, 1, 3);
        src.Save(_dir);
        var map = LabelSource.LoadMap(_dir);
        map.Used.Should().Equal(7, 12, 40);
        map.Counts.Should().Equal(2, 1, 3);
        map.ToCompact(12).Should().Be(1);
        FluentActions.Invoking(() => map.ToCompact(8)).Should().Throw<ArgumentException>().WithMessage("*7, 12, 40*");
    }

    [Fact]
    public void ClusterConditioningUsesTheUtilisedClustersAndCopiesClustersJson()
    {
        var data = TrainingTestData.Patterns(2);                            // 6 images
        var assignment = new Cedm.Clustering.ClusterAssignment("kmeans", 5, [4, 1, 4, 4, 1, 1], Enumerable.Repeat(1f, 6).ToArray());
        string clusters = Path.Combine(_dir, "clusters");
        assignment.Save(clusters);
        var src = Cedm.Stages.ConditionSources.Resolve("clusters:" + clusters, data).Labels;
        src.K.Should().Be(2);
        src.Used.Should().Equal(1, 4);
        src.Ids.Should().Equal(1, 0, 1, 1, 0, 0);
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        src.Save(run);
        File.Exists(Path.Combine(run, "clusters.json")).Should().BeTrue();
        FluentActions.Invoking(() => Cedm.Stages.ConditionSources.Resolve("clusters:" + clusters, TrainingTestData.Patterns(3)))
            .Should().Throw<InvalidDataException>().WithMessage("*6 cluster ids for 9 images*");
        FluentActions.Invoking(() => Cedm.Stages.ConditionSources.Resolve("bogus", data)).Should().Throw<ArgumentException>();
    }
}
