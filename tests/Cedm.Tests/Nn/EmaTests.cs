using Cedm.Nn.Optim;
using Cedm.Tensors;

namespace Cedm.Tests.Nn;

public class EmaTests
{
    private static readonly EdmEmaOptions Edm = new(); // half-life 500 kimg, ramp-up 0.05

    [Fact]
    public void BetaFollowsHalfLifeInImagesWithRamp()
    {
        Assert.Equal(0.0, EdmEma.Beta(0, 512, Edm)); // step 0: h = 0 → β = 0 (copy)
        // Ramp: at 1 M images h = min(500 000, 50 000) = 50 000.
        Assert.Equal(Math.Pow(0.5, 512 / 50_000.0), EdmEma.Beta(1_000_000, 512, Edm), 15);
        // Past 10 M images the ramp no longer binds: h = 500 000.
        Assert.Equal(Math.Pow(0.5, 512 / 500_000.0), EdmEma.Beta(20_000_000, 512, Edm), 15);
        Assert.Equal(Math.Pow(0.5, 512 / 500_000.0), EdmEma.Beta(0, 512, new EdmEmaOptions(RampupRatio: null)), 15);
        // The half-life means: after h images at fixed β the old average's weight is ½.
        double beta = EdmEma.Beta(20_000_000, 1000, Edm);
        Assert.Equal(0.5, Math.Pow(beta, 500), 12);
    }

    [Fact]
    public void FirstUpdateCopiesThenAverages()
    {
        var net = new ToyNet(new Rng(1));
        var ema = new ToyNet(new Rng(2));
        var e = new EdmEma(net, ema);
        Assert.All(ema.Parameters(), p => Assert.False(p.RequiresGrad));
        Assert.Equal(0.0, e.Update(0, 64));
        foreach (var (k, t) in net.StateDict()) if (!k.EndsWith("scale")) Assert.Equal(t.Data, ema.StateDict()[k].Data);

        var old = ema.Head.Weight.ToArray();
        foreach (var p in net.Parameters()) for (int i = 0; i < p.Size; i++) p.Data[i] += 1f;
        double beta = e.Update(64, 64);
        Assert.Equal(Math.Pow(0.5, 64 / (64 * 0.05)), beta, 15);
        for (int i = 0; i < old.Length; i++)
            Assert.Equal(beta * old[i] + (1 - beta) * net.Head.Weight.Data[i], ema.Head.Weight.Data[i], 5);
    }

    [Fact]
    public void MomentumEmaIsTemisTeacherUpdate()
    {
        var student = new ToyNet(new Rng(1));
        var teacher = new ToyNet(new Rng(2));
        teacher.LoadStateDict(student.StateDict());
        var m = new MomentumEma(student, teacher);
        foreach (var p in student.Parameters()) for (int i = 0; i < p.Size; i++) p.Data[i] += 1f;
        var before = teacher.Head.Weight.ToArray();
        m.Update(0.996);
        for (int i = 0; i < before.Length; i++)
            Assert.Equal(0.996 * before[i] + 0.004 * student.Head.Weight.Data[i], teacher.Head.Weight.Data[i], 5);
        Assert.Throws<ArgumentException>(() => new MomentumEma(student, new ToyNet(new Rng(3), outputs: 2)));
    }
}
