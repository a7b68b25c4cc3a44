using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Tests.Nn;

/// <summary>Small modules for structural tests: a block with a buffer and a nested Sequential.</summary>
internal sealed class ToyBlock : Layer
{
    public Linear Proj { get; }

    public Dropout Drop { get; }

    public Tensor Scale { get; }

    public ToyBlock(int width, Rng rng)
    {
        Proj = RegisterModule("proj", new Linear(width, width, rng));
        Drop = RegisterModule("drop", new Dropout(0.5f, rng));
        Scale = RegisterBuffer("scale", Tensor.Full(2f, 1));
    }

    public override Tensor Forward(Tensor x) => Drop.Forward(Proj.Forward(x)) * Scale;
}

internal sealed class ToyNet : Layer
{
    public Sequential Enc { get; }

    public Linear Head { get; }

    public ToyNet(Rng rng, int width = 4, int outputs = 3)
    {
        Enc = RegisterModule("enc", new Sequential(new ToyBlock(width, rng), new SiLU(), new ToyBlock(width, rng)));
        Head = RegisterModule("head", new Linear(width, outputs, rng, bias: false));
    }

    public override Tensor Forward(Tensor x) => Head.Forward(Enc.Forward(x));
}
