using Cedm.Distributed;
using Cedm.Nn.Optim;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Distributed;

/// <summary>The communicator seam without MPI: sharding, launcher detection, the single-process job and bucketing.</summary>
public sealed class CommunicatorTests
{
    [Theory]
    [InlineData(8, 2)]
    [InlineData(7, 3)]
    [InlineData(2, 4)]
    [InlineData(0, 1)]
    public void ShardsAreContiguousInRankOrderAndDifferByAtMostOne(int count, int size)
    {
        var slices = Enumerable.Range(0, size).Select(r => CommunicatorExtensions.Shard(count, r, size)).ToList();
        slices[0].Start.Should().Be(0);
        slices[^1].End.Should().Be(count);
        for (int r = 1; r < size; r++) slices[r].Start.Should().Be(slices[r - 1].End);
        var lengths = slices.Select(s => s.End - s.Start).ToList();
        (lengths.Max() - lengths.Min()).Should().BeLessThanOrEqualTo(1);
    }

    [Fact]
    public void ALauncherIsRecognisedByItsEnvironment()
    {
        Communicator.LaunchedByMpi(_ => null).Should().BeFalse();
        Communicator.LaunchedByMpi(n => n == "OMPI_COMM_WORLD_SIZE" ? "2" : null).Should().BeTrue();
        Communicator.LaunchedByMpi(n => n == "PMIX_RANK" ? "0" : null).Should().BeTrue("srun --mpi=pmix starts ranks without mpirun");
    }

    [Fact]
    public void TheTestProcessIsASingleProcessJob()
    {
        var world = Communicator.World;
        world.Should().BeSameAs(SingleProcess.Instance, "the test runner was not started by mpirun");
        (world.Size, world.Rank).Should().Be((1, 0));
        var data = new float[] { 1, 2, 3 };
        world.AllReduceSum(data);
        data.Should().Equal(1, 2, 3);
        world.Gather(new byte[] { 4, 5 }).Should().Equal(4, 5);
        FluentActions.Invoking(() => world.Broadcast(new byte[1], root: 1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void AMissingLibraryIsADllNotFoundNamingIt()
    {
        FluentActions.Invoking(() => OpenMpiCommunicator.Open("libcedm-no-such-mpi.so"))
            .Should().Throw<DllNotFoundException>().WithMessage("*libcedm-no-such-mpi.so*");
    }

    /// <summary>Two identical ranks: every all-reduce doubles the data. Records each collective's length.</summary>
    private sealed class TwinRanks : ICommunicator
    {
        public List<int> Calls { get; } = [];
        public int Size => 2;
        public int Rank => 0;
        public string Description => "twins";
        public void AllReduceSum(Span<float> data) { Calls.Add(data.Length); foreach (ref float v in data) v += v; }
        public void AllReduceSum(Span<double> data) { foreach (ref double v in data) v += v; }
        public void Broadcast(Span<byte> data, int root = 0) { }
        public void Broadcast(Span<float> data, int root = 0) { }
        public byte[] Gather(ReadOnlySpan<byte> mine, int root = 0) => [.. mine, .. mine];
        public void Barrier() { }
        public void Abort(int code) => throw new InvalidOperationException("abort");
        public void Dispose() { }
    }

    [Fact]
    public void GradientsAreWeightedSummedInBucketsInReverseParameterOrder()
    {
        var rng = new Rng(5UL);
        var ps = new[] { Tensor.Randn(rng, [5]), Tensor.Randn(rng, [1]), Tensor.Randn(rng, [2, 4]), Tensor.Randn(rng, [3]) };
        foreach (var p in ps.Take(3)) p.Grad = Tensor.Randn(rng, p.ShapeArray());
        var before = ps.Select(p => p.Grad?.Data.ToArray()).ToList();
        var comm = new TwinRanks();
        var reduce = new GradientAllReduce(comm, ps, bucketBytes: 4 * sizeof(float));
        reduce.Reduce(0.25f);
        comm.Calls.Should().Equal([3, 8, 1, 5], "buckets of up to 4 floats from the last parameter back; a larger parameter gets its own");
        reduce.Buckets.Should().Be(4);
        for (int i = 0; i < 3; i++)
            ps[i].Grad!.Data.Should().Equal(before[i]!.Select(g => 2 * (g * 0.25f)), "each twin contributes its quarter-weighted gradient");
        ps[3].Grad!.Data.Should().Equal(0f, 0f, 0f);
    }

    [Fact]
    public void BackwardAnnouncesEachParameterOnceWithItsFinalGradient()
    {
        var rng = new Rng(9UL);
        var w1 = Tensor.Randn(rng, [3, 4]);
        var w2 = Tensor.Randn(rng, [4, 2]);
        var unused = Tensor.Randn(rng, [2]);
        foreach (var p in new[] { w1, w2, unused }) p.RequiresGrad = true;
        var x = Tensor.Randn(rng, [5, 3]);
        var announced = new List<(Tensor P, float[] Grad)>();
        // w1 is used twice, so its gradient is only final after both uses have been differentiated.
        var h = (Tensor.MatMul(x, w1) + Tensor.MatMul(x, w1)).Square();
        Tensor.MatMul(h, w2).Sum().Backward(null, p => announced.Add((p, p.Grad!.Data.ToArray())));
        announced.Select(a => a.P).Should().Equal(new[] { w2, w1 }, ReferenceEquals,
            "w2 is finished first (it is nearer the loss); the unused parameter never gets a gradient");
        foreach (var (p, grad) in announced) grad.Should().Equal(p.Grad!.Data, "nothing is added to a gradient after it is announced");
    }

    [Fact]
    public void OverlappedReductionGivesTheSameGradientsAsReductionAfterBackward()
    {
        var rng = new Rng(11UL);
        var w1 = Tensor.Randn(rng, [3, 4]);
        var w2 = Tensor.Randn(rng, [4, 2]);
        var w3 = Tensor.Randn(rng, [6]);   // not in the graph: reduced as zeros at the end
        var ps = new[] { w1, w2, w3 };
        foreach (var p in ps) p.RequiresGrad = true;
        var x = Tensor.Randn(rng, [5, 3]);
        float[][] Gradients(bool overlap)
        {
            foreach (var p in ps) p.Grad = null;
            var comm = new TwinRanks();
            var reduce = new GradientAllReduce(comm, ps, bucketBytes: 8 * sizeof(float));
            if (overlap) reduce.BeginStep(0.5f);
            Tensor.MatMul(Tensor.MatMul(x, w1).Square(), w2).Sum().Backward(null, overlap ? reduce.GradientReady : null);
            if (overlap) reduce.EndStep();
            else reduce.Reduce(0.5f);
            return ps.Select(p => p.Grad!.Data.ToArray()).ToArray();
        }
        var after = Gradients(overlap: false);
        var during = Gradients(overlap: true);
        for (int i = 0; i < ps.Length; i++) during[i].Should().Equal(after[i]);
        during[2].Should().OnlyContain(v => v == 0f);
    }
}
