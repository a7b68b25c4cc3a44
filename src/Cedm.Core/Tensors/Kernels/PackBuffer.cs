using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// A 64-byte aligned scratch buffer for GEMM panel packing, on the pinned object heap so its address
/// never changes (kernels keep raw pointers into it). 64-byte alignment = one cache line = one zmm load,
/// so packed micro-panels never straddle lines.
/// </summary>
internal sealed unsafe class PackBuffer
{
    private const int AlignFloats = 16;
    private readonly float[] _storage;

    public PackBuffer(int length)
    {
        Length = length;
        _storage = GC.AllocateUninitializedArray<float>(length + AlignFloats, pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        nint aligned = (start + 63) & ~(nint)63;
        Pointer = (float*)aligned;
    }

    public int Length { get; }
    public float* Pointer { get; }

    // Per-thread cache, one slot per role (A block, B block). Rent takes the buffer out of the slot, so a
    // re-entrant call on the same thread (nested parallelism) simply allocates its own instead of sharing.
    [ThreadStatic] private static PackBuffer? t_slotA;
    [ThreadStatic] private static PackBuffer? t_slotB;
    // The channels-innermost Winograd path: per-worker scratch, and the packed weights of the calling thread.
    [ThreadStatic] private static PackBuffer? t_slotScratch;
    [ThreadStatic] private static PackBuffer? t_slotWeights;

    public static PackBuffer RentA(int length) => Take(ref t_slotA, length);
    public static PackBuffer RentB(int length) => Take(ref t_slotB, length);
    public static void ReturnA(PackBuffer buffer) => t_slotA = Keep(t_slotA, buffer);
    public static void ReturnB(PackBuffer buffer) => t_slotB = Keep(t_slotB, buffer);
    public static PackBuffer RentScratch(long length) => Take(ref t_slotScratch, checked((int)length));
    public static void ReturnScratch(PackBuffer buffer) => t_slotScratch = Keep(t_slotScratch, buffer);
    public static PackBuffer RentWeights(int length) => Take(ref t_slotWeights, length);
    public static void ReturnWeights(PackBuffer buffer) => t_slotWeights = Keep(t_slotWeights, buffer);

    private static PackBuffer Take(ref PackBuffer? slot, int length)
    {
        PackBuffer? b = slot;
        slot = null;
        return b is not null && b.Length >= length ? b : new PackBuffer(length);
    }

    private static PackBuffer Keep(PackBuffer? current, PackBuffer returned) =>
        current is not null && current.Length >= returned.Length ? current : returned;
}
