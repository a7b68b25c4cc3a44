using Cedm.Tensors;

namespace Cedm.Fuzz;

/// <summary>
/// Byte-level mutations of a valid file, the kinds that find parser bugs: flipped bits, "interesting" bytes
/// (0, 0x7F, 0x80, 0xFF) and 32-bit values (0, −1, 2³¹−1, 2³¹) written over length and size fields, truncation,
/// inserted and deleted runs, a duplicated chunk, and digits in a text header replaced by huge or negative numbers.
/// Mutations are drawn from the case's own seed, so a case is reproduced by its (format, seed file, index).
/// </summary>
public static class Mutator
{
    public static readonly string[] Kinds = ["bitflip", "byte", "int32", "truncate", "insert", "delete", "duplicate", "digits"];

    public static (byte[] Data, string Kind) Mutate(byte[] input, Rng rng)
    {
        string kind = Kinds[rng.NextInt(Kinds.Length)];
        var d = new List<byte>(input);
        int Pos(int extra = 0) => d.Count == 0 ? 0 : rng.NextInt(d.Count + extra);
        // Most parser state sits in the first bytes (magic, header, sizes): aim there half of the time.
        int HeadPos() => d.Count == 0 ? 0 : rng.NextDouble() < 0.5 ? rng.NextInt(Math.Min(d.Count, 256)) : Pos();
        switch (kind)
        {
            case "bitflip":
                for (int i = 0, n = 1 + rng.NextInt(8); i < n && d.Count > 0; i++) { int p = HeadPos(); d[p] ^= (byte)(1 << rng.NextInt(8)); }
                break;
            case "byte":
                if (d.Count > 0) d[HeadPos()] = new byte[] { 0, 0x7F, 0x80, 0xFF, (byte)rng.NextInt(256) }[rng.NextInt(5)];
                break;
            case "int32":
                if (d.Count >= 4)
                {
                    int p = Math.Min(HeadPos(), d.Count - 4);
                    var v = BitConverter.GetBytes(new[] { 0, -1, int.MaxValue, int.MinValue, 1 << 24, 3 }[rng.NextInt(6)]);
                    if (rng.NextDouble() < 0.5) Array.Reverse(v);   // big-endian fields (IDX, PNG)
                    for (int i = 0; i < 4; i++) d[p + i] = v[i];
                }
                break;
            case "truncate":
            {
                int cut = Pos();
                d.RemoveRange(cut, d.Count - cut);
                if (d.Count > 0 && rng.NextDouble() < 0.3) d.RemoveRange(0, Math.Min(d.Count, 1 + rng.NextInt(16)));
                break;
            }
            case "insert":
            {
                int p = HeadPos(), n = 1 + rng.NextInt(64);
                d.InsertRange(p, Enumerable.Range(0, n).Select(_ => (byte)rng.NextInt(256)));
                break;
            }
            case "delete":
                if (d.Count > 0) { int p = HeadPos(); d.RemoveRange(p, Math.Min(d.Count - p, 1 + rng.NextInt(64))); }
                break;
            case "duplicate":
                if (d.Count > 0)
                {
                    int p = Pos(), n = Math.Min(d.Count - p, 1 + rng.NextInt(512));
                    d.InsertRange(Pos(), d.GetRange(p, n));
                }
                break;
            case "digits":
            {
                // Text headers (npy dict, safetensors JSON, .json files): one run of digits becomes an extreme number.
                var runs = new List<(int Start, int Length)>();
                for (int i = 0; i < Math.Min(d.Count, 4096); i++)
                    if (char.IsAsciiDigit((char)d[i]) && (i == 0 || !char.IsAsciiDigit((char)d[i - 1])))
                    {
                        int j = i;
                        while (j < d.Count && char.IsAsciiDigit((char)d[j])) j++;
                        runs.Add((i, j - i));
                    }
                if (runs.Count == 0) goto case "bitflip";
                var (start, length) = runs[rng.NextInt(runs.Count)];
                string value = new[] { "0", "-1", "99999999999999999999", "2147483648", "-2147483649", "1e308", "NaN" }[rng.NextInt(7)];
                d.RemoveRange(start, length);
                d.InsertRange(start, System.Text.Encoding.ASCII.GetBytes(value));
                break;
            }
        }
        return ([.. d], kind);
    }
}
