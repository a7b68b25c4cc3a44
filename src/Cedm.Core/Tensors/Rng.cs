namespace Cedm.Tensors;

/// <summary>
/// A seedable random generator, passed explicitly to everything random (never a global).
/// xoshiro256** seeded through SplitMix64 (Blackman and Vigna): fast, 256-bit state, good statistics.
/// One seed = one stream, so each sample can own a generator and its result depends only on its seed
/// (EDM's per-seed generators, spec §3).
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    public Rng(long seed) : this(unchecked((ulong)seed)) { }

    /// <summary>Number of words in <see cref="GetState"/>.</summary>
    public const int StateLength = 6;

    /// <summary>
    /// The complete generator state (the four xoshiro words, the cached Box–Muller normal as raw bits, and whether
    /// it is present), so a checkpoint can resume the exact stream (<see cref="FromState"/>).
    /// </summary>
    public ulong[] GetState() =>
        [_s0, _s1, _s2, _s3, BitConverter.DoubleToUInt64Bits(_spareNormal), _hasSpare ? 1UL : 0UL];

    /// <summary>A generator continuing exactly where the one that produced <paramref name="state"/> was.</summary>
    public static Rng FromState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != StateLength) throw new ArgumentException($"An Rng state has {StateLength} words, got {state.Length}.", nameof(state));
        if ((state[0] | state[1] | state[2] | state[3]) == 0) throw new ArgumentException("An all-zero xoshiro state is invalid.", nameof(state));
        if (state[5] > 1) throw new ArgumentException($"Invalid spare-normal flag {state[5]}.", nameof(state));
        var rng = new Rng(0UL);
        (rng._s0, rng._s1, rng._s2, rng._s3) = (state[0], state[1], state[2], state[3]);
        rng._spareNormal = BitConverter.UInt64BitsToDouble(state[4]);
        rng._hasSpare = state[5] == 1;
        return rng;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits (never rounds up to 1).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject).</summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ulong bound = (ulong)n;
        while (true)
        {
            ulong x = NextUInt64() >> 32;
            ulong m = x * bound;
            if ((uint)m >= (uint)((1UL << 32) % bound)) return (int)(m >> 32);
        }
    }

    /// <summary>Standard normal via the Box–Muller transform in double precision (pairs are cached).</summary>
    public double NextNormal()
    {
        if (_hasSpare) { _hasSpare = false; return _spareNormal; }
        double u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        _hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }

    public void FillNormal(Span<float> dst, float mean = 0f, float std = 1f)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = mean + std * (float)NextNormal();
    }

    public void FillUniform(Span<float> dst, float low = 0f, float high = 1f)
    {
        float w = high - low;
        for (int i = 0; i < dst.Length; i++) dst[i] = low + w * NextFloat();
    }

    /// <summary>A Fisher–Yates permutation of 0..n-1.</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = NextInt(i + 1); (p[i], p[j]) = (p[j], p[i]); }
        return p;
    }
}
