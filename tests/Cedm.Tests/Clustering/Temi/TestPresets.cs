using Cedm.Clustering.Temi;

namespace Cedm.Tests.Clustering.Temi;

/// <summary>TEMI settings small enough for unit tests (seconds), documented where used.</summary>
internal static class TestPresets
{
    /// <summary>
    /// The CPU preset (64/32 heads, recipe lr kept by the small-data guard) with 4 heads instead of 8, to halve the
    /// time; on 6 blobs in 16-D (N = 1 200) it is less robust across seeds than the preset (TemiOptions remarks), so
    /// tests use fixed seeds and the many-seed check lives in tools/experiments/temi_blobs.sh.
    /// </summary>
    public static TemiOptions SmallTemi => TemiOptions.CpuDefault() with { Heads = 4 };
}
