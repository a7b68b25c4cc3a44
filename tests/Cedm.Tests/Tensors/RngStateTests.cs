using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Tensors;

public class RngStateTests
{
    [Fact]
    public void RestoredStateContinuesTheStreamIncludingTheCachedNormal()
    {
        var a = new Rng(7);
        a.NextNormal();                      // leaves a cached spare normal
        a.NextInt(10);
        var state = a.GetState();
        state[5].Should().Be(1UL, "one Box–Muller value is cached");
        var b = Rng.FromState(state);
        for (int i = 0; i < 50; i++)
        {
            b.NextNormal().Should().Be(a.NextNormal());
            b.NextUInt64().Should().Be(a.NextUInt64());
        }
    }

    [Fact]
    public void InvalidStatesAreRejected()
    {
        FluentActions.Invoking(() => Rng.FromState(new ulong[5])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => Rng.FromState(new ulong[6])).Should().Throw<ArgumentException>().WithMessage("*all-zero*");
    }
}
