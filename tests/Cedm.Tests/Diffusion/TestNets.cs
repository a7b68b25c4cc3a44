using Cedm.Diffusion.Networks;

namespace Cedm.Tests.Diffusion;

/// <summary>Small configurations that keep network tests fast while covering every path (down, up, skip convs, attention).</summary>
internal static class TestNets
{
    /// <summary>16×16×1, 8 base channels, mult [1,2], 1 block, attention at 8×8: the fixture's topology.</summary>
    public static SongUNetOptions Micro(int labelDim = 0, int augmentDim = 0, float dropout = 0f) => new()
    {
        Resolution = 16, InChannels = 1, OutChannels = 1, LabelDim = labelDim, AugmentDim = augmentDim, ModelChannels = 8,
        ChannelMult = [1, 2], NumBlocks = 1, AttnResolutions = [8], Dropout = dropout,
    };
}
