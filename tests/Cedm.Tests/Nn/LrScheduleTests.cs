using Cedm.Nn.Optim;

namespace Cedm.Tests.Nn;

public class LrScheduleTests
{
    [Fact]
    public void EdmWarmupIsLinearInImagesAndStartsAtZero()
    {
        // spec §1.4: lr_ref = 1e-3, ramp-up 10 000 kimg, batch 512.
        Assert.Equal(0.0, LrSchedule.EdmWarmup(1e-3, 0, 10_000));
        Assert.Equal(1e-3 * 512 / 1e7, LrSchedule.EdmWarmup(1e-3, 512, 10_000), 15);
        Assert.Equal(0.5e-3, LrSchedule.EdmWarmup(1e-3, 5_000_000, 10_000), 15);
        Assert.Equal(1e-3, LrSchedule.EdmWarmup(1e-3, 10_000_000, 10_000));
        Assert.Equal(1e-3, LrSchedule.EdmWarmup(1e-3, 200_000_000, 10_000));
        Assert.Equal(1e-3, LrSchedule.EdmWarmup(1e-3, 0, 0)); // no ramp-up
    }

    [Fact]
    public void TemiWarmupThenConstantCosine()
    {
        // spec §4.5: batch 1024 → base = final = 1e-4·1024/256 = 4e-4; 20 of 100 epochs warm-up; say 48 iters/epoch.
        const double lr = 4e-4;
        int ipe = 48, warm = 20 * ipe;
        Assert.Equal(0.0, LrSchedule.WarmupCosine(0, lr, lr, 100, ipe, 20));
        Assert.Equal(lr / (warm - 1), LrSchedule.WarmupCosine(1, lr, lr, 100, ipe, 20), 15); // linspace(0, lr, W)
        Assert.Equal(lr, LrSchedule.WarmupCosine(warm - 1, lr, lr, 100, ipe, 20), 15);
        for (int it = warm; it < 100 * ipe; it += 111) Assert.Equal(lr, LrSchedule.WarmupCosine(it, lr, lr, 100, ipe, 20), 15);
    }

    [Fact]
    public void CosineDecaysFromBaseToFinal()
    {
        Assert.Equal(1.0, LrSchedule.WarmupCosine(0, 1.0, 0.0, 10, 10));
        Assert.Equal(0.5, LrSchedule.WarmupCosine(50, 1.0, 0.0, 10, 10), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 99 / 100)), LrSchedule.WarmupCosine(99, 1.0, 0.0, 10, 10), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.WarmupCosine(100, 1.0, 0.0, 10, 10));
    }
}
