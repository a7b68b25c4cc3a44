using System.Globalization;
using System.Text;

namespace Cedm.IO;

/// <summary>
/// The .npy header dictionary: a Python literal such as
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>.
/// Parsing accepts what NumPy's <c>safe_eval</c> accepts for valid files: keys in any order, single or
/// double quotes, tuples with or without trailing commas, <c>()</c> for 0-d, Python-2 long suffixes
/// (<c>3L</c>, which NumPy's <c>_filter_header</c> strips) and trailing whitespace/newline padding.
/// It is a small hand-written recursive-descent parser; nothing is evaluated.
/// </summary>
internal sealed record NpyHeader(string Descr, bool FortranOrder, long[] Shape)
{
    /// <summary>Parses the header text; <paramref name="fail"/> builds the exception for the caller's file.</summary>
    public static NpyHeader Parse(string text, Func<string, Exception> fail)
    {
        var p = new Parser(text, fail);
        var header = p.ParseDict();
        p.SkipWs();
        if (!p.AtEnd) throw fail($"unexpected text after the header dictionary at offset {p.Pos}: {p.Excerpt()}");
        return header;
    }

    /// <summary>
    /// Formats the header exactly as NumPy 1.2x's <c>_write_array_header</c> does (sorted keys, repr values,
    /// spare spaces for the growth axis), so files we write are byte-identical to <c>np.save</c>'s.
    /// The result excludes the alignment padding and final newline.
    /// </summary>
    public string Format()
    {
        var sb = new StringBuilder("{");
        sb.Append("'descr': '").Append(Descr).Append("', ");
        sb.Append("'fortran_order': ").Append(FortranOrder ? "True" : "False").Append(", ");
        sb.Append("'shape': ").Append(ShapeRepr(Shape)).Append(", ");
        sb.Append('}');
        // NumPy: header += " " * (GROWTH_AXIS_MAX_DIGITS(=21) - len(repr(shape[0]))) for non-0-d arrays,
        // leaving room to rewrite the header in place when appending along axis 0.
        if (Shape.Length > 0)
        {
            long axis = FortranOrder ? Shape[^1] : Shape[0];
            sb.Append(' ', Math.Max(0, 21 - axis.ToString(CultureInfo.InvariantCulture).Length));
        }
        return sb.ToString();
    }

    /// <summary>Python's repr of a tuple of ints: <c>()</c>, <c>(3,)</c>, <c>(2, 3)</c>.</summary>
    private static string ShapeRepr(long[] shape) => shape.Length switch
    {
        0 => "()",
        1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
    };

    private sealed class Parser(string s, Func<string, Exception> fail)
    {
        public int Pos;
        public bool AtEnd => Pos >= s.Length;

        public string Excerpt()
        {
            string e = s.Substring(Pos, Math.Min(20, s.Length - Pos));
            return $"'{e}'";
        }

        public void SkipWs()
        {
            while (Pos < s.Length && s[Pos] is ' ' or '\t' or '\n' or '\r') Pos++;
        }

        private void Expect(char c)
        {
            SkipWs();
            if (AtEnd) throw fail($"header ends early: expected '{c}'");
            if (s[Pos] != c) throw fail($"header syntax error at offset {Pos}: expected '{c}', found {Excerpt()}");
            Pos++;
        }

        private bool TryConsume(char c)
        {
            SkipWs();
            if (Pos < s.Length && s[Pos] == c) { Pos++; return true; }
            return false;
        }

        public NpyHeader ParseDict()
        {
            SkipWs();
            if (AtEnd || s[Pos] != '{') throw fail("header is not a Python dictionary (it must start with '{')");
            Pos++;
            string? descr = null;
            bool? fortran = null;
            long[]? shape = null;
            while (true)
            {
                if (TryConsume('}')) break;
                SkipWs();
                if (AtEnd) throw fail("header ends early: unterminated dictionary");
                string key = ParseString();
                Expect(':');
                switch (key)
                {
                    case "descr":
                        if (descr != null) throw fail("header repeats the key 'descr'");
                        SkipWs();
                        if (!AtEnd && s[Pos] == '[')
                            throw fail("structured (record) dtypes are not supported; save a plain numeric array");
                        if (AtEnd || s[Pos] is not ('\'' or '"')) throw fail($"'descr' must be a dtype string, found {Excerpt()}");
                        descr = ParseString();
                        break;
                    case "fortran_order":
                        if (fortran != null) throw fail("header repeats the key 'fortran_order'");
                        fortran = ParseBool();
                        break;
                    case "shape":
                        if (shape != null) throw fail("header repeats the key 'shape'");
                        shape = ParseShape();
                        break;
                    default:
                        throw fail($"header has unexpected key '{key}' (expected exactly 'descr', 'fortran_order', 'shape')");
                }
                if (TryConsume(',')) continue;
                Expect('}');
                break;
            }
            if (descr == null || fortran == null || shape == null)
            {
                var missing = new[] { descr == null ? "'descr'" : null, fortran == null ? "'fortran_order'" : null, shape == null ? "'shape'" : null };
                throw fail($"header is missing {string.Join(", ", missing.Where(m => m != null))}");
            }
            return new NpyHeader(descr, fortran.Value, shape);
        }

        private string ParseString()
        {
            SkipWs();
            if (AtEnd || s[Pos] is not ('\'' or '"')) throw fail($"header syntax error at offset {Pos}: expected a quoted string, found {Excerpt()}");
            char q = s[Pos++];
            int start = Pos;
            // dtype strings and key names never contain quotes or escapes; refuse escapes instead of half-supporting them.
            while (Pos < s.Length && s[Pos] != q)
            {
                if (s[Pos] == '\\') throw fail($"header string at offset {start - 1} uses escape sequences, which are not supported");
                Pos++;
            }
            if (AtEnd) throw fail("header ends early: unterminated string");
            return s.Substring(start, Pos++ - start);
        }

        private bool ParseBool()
        {
            SkipWs();
            if (string.CompareOrdinal(s, Pos, "True", 0, 4) == 0) { Pos += 4; return true; }
            if (string.CompareOrdinal(s, Pos, "False", 0, 5) == 0) { Pos += 5; return false; }
            throw fail($"'fortran_order' must be True or False, found {Excerpt()}");
        }

        private long[] ParseShape()
        {
            Expect('(');
            var dims = new List<long>();
            while (true)
            {
                if (TryConsume(')')) break;
                dims.Add(ParseInt());
                if (TryConsume(',')) continue;
                Expect(')');
                // Python: "(3)" is the int 3, not a tuple; NumPy rejects it as "shape is not valid".
                if (dims.Count == 1) throw fail("'shape' must be a tuple; a 1-d shape needs a trailing comma, e.g. (3,)");
                break;
            }
            if (dims.Count > 64) throw fail($"'shape' has {dims.Count} dimensions (NumPy allows at most 64)");
            return dims.ToArray();
        }

        private long ParseInt()
        {
            SkipWs();
            int start = Pos;
            if (Pos < s.Length && s[Pos] is '-' or '+') Pos++;
            while (Pos < s.Length && char.IsAsciiDigit(s[Pos])) Pos++;
            string digits = s[start..Pos];
            if (Pos < s.Length && s[Pos] is 'L' or 'l') Pos++; // Python 2 long literal, e.g. (3L, 4L)
            if (digits.Length == 0 || digits is "-" or "+")
            {
                Pos = start;
                throw fail($"'shape' must contain integers, found {Excerpt()}");
            }
            if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                throw fail($"'shape' dimension {digits} is out of range");
            if (v < 0) throw fail($"'shape' has a negative dimension ({v})");
            return v;
        }
    }
}
