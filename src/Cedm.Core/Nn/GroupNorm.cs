using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// Group normalisation over [N, C, …] with per-channel affine γ ("weight", init 1) and β ("bias", init 0), via
/// <see cref="Tensor.GroupNorm"/>. With <see cref="FusedSilu"/> the SiLU that follows every GroupNorm in a UNet
/// block (spec §2.2) runs in the same kernel. <see cref="ForSongUNet"/> gives SongUNet's settings (spec §2.1).
/// </summary>
public sealed class GroupNorm : Layer
{
    public int Channels { get; }

    public int Groups { get; }

    public float Eps { get; }

    public bool FusedSilu { get; }

    public Tensor? Weight { get; }

    public Tensor? Bias { get; }

    public GroupNorm(int channels, int groups, float eps = 1e-5f, bool affine = true, bool fusedSilu = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (groups < 1 || channels % groups != 0)
            throw new ArgumentException($"GroupNorm: {groups} groups do not divide {channels} channels.");
        Channels = channels;
        Groups = groups;
        Eps = eps;
        FusedSilu = fusedSilu;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(channels));
            Bias = RegisterParameter("bias", Tensor.Zeros(channels));
        }
    }

    /// <summary>SongUNet's GroupNorm: groups = min(32, C/4), eps = 1e-6, affine (spec §2.1).</summary>
    public static GroupNorm ForSongUNet(int channels, bool fusedSilu = false) =>
        new(channels, Math.Min(32, Math.Max(1, channels / 4)), 1e-6f, affine: true, fusedSilu);

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank < 2 || x.Dim(1) != Channels)
            throw new ArgumentException($"GroupNorm({Channels} channels) expects [N, {Channels}, …], got {Shapes.Format(x.Shape)}.");
        return Tensor.GroupNorm(x, Groups, Weight, Bias, Eps, FusedSilu);
    }
}
