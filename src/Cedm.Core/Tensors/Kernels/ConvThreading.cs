namespace Cedm.Tensors.Kernels;

/// <summary>How the conv drivers spread work over <see cref="EnginePolicy.Threads"/> (benchmarks compare them).</summary>
internal enum ConvThreading
{
    /// <summary>The measured best for the active GEMM back-end (see <see cref="Conv2dKernels.Resolve"/>).</summary>
    Auto,
    /// <summary>Workers claim chunks of samples; each runs single-threaded managed GEMMs on its own buffers.</summary>
    SamplesManaged,
    /// <summary>Workers claim chunks of samples; each calls <see cref="Gemm.Sgemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/> (the back-end threads as it likes).</summary>
    SamplesShared,
    /// <summary>Samples one after another; each GEMM is <see cref="Gemm.Sgemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/> using all threads.</summary>
    SerialSamples,
}
