namespace Cedm.Diffusion.Sampling;

/// <summary>
/// Generated images in the training range, float32 [N, C, H, W] (rounded from the float64 sampler state), with the
/// seed and the compacted condition id of each (−1 for an unconditional model).
/// </summary>
public sealed record SampleResult(float[] Images, int Count, int Channels, int Height, int Width, long[] Seeds, int[] Conditions)
{
    /// <summary>
    /// uint8 [N, H, W, C] by EDM's rule u8 = clip(x·127.5 + 128, 0, 255) truncated (spec §1.5); NaN becomes 0.
    /// </summary>
    public byte[] ToUInt8() => Data.ImageDataset.FromTrainingRange(Images, Count, Channels, Height, Width);
}
