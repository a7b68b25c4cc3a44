#!/usr/bin/python3
"""Golden fixtures and cross-checks for cedm's .npy / .safetensors I/O (src/Cedm.Core/IO).

Run with Debian's interpreter, which has numpy and torch (the pyenv `python3` on PATH does not):

  /usr/bin/python3 tools/make_io_fixtures.py [OUT_DIR]
      Writes small NumPy/torch-made files into OUT_DIR (default tests/Cedm.Tests/Fixtures/io) plus
      `expected.json`, which records every value as raw bits (floats) or integers, computed by NumPy/torch,
      so the C# tests compare against NumPy's truth without trusting our own reader.

  /usr/bin/python3 tools/make_io_fixtures.py --verify DIR
      Checks files that OUR C# writers produced (the test IoCrossCheckTests writes them into DIR when the
      environment variable CEDM_IO_VERIFY_DIR=DIR is set):
        CEDM_IO_VERIFY_DIR=/tmp/cedm-io dotnet test tests/Cedm.Tests -c Release --filter "FullyQualifiedName~IoCrossCheck"
        /usr/bin/python3 tools/make_io_fixtures.py --verify /tmp/cedm-io
      For .npy: np.load gives the expected dtype/shape/bit patterns, and the file is byte-identical to
      np.save of the same array. For .safetensors: header length/padding/JSON/offset rules hold, and the
      values equal torch's conversion of the same float32 inputs to F32/F16/BF16/F64 (NaN compared as NaN).
      Exits non-zero on any mismatch. The value generators below mirror IoCrossCheckTests.cs exactly.

There is no Python safetensors package here; `st_write`/`st_read` implement the format directly:
8-byte little-endian uint64 header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}} padded with spaces
to a multiple of 8, then the data buffer (offsets relative to its start, contiguous, no holes).
"""
import io
import json
import os
import struct
import sys

import numpy as np
import torch

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Cedm.Tests", "Fixtures", "io")

# --- safetensors (own minimal implementation of the format) -------------------------------------------

ST_TORCH = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
            "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool,
            "I16": torch.int16, "I8": torch.int8}
ST_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1, "I16": 2, "I8": 1}
# Reference writer orders tensors by dtype (descending enum order, i.e. wide types first) then name.
ST_ORDER = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]


def st_write(path, tensors, metadata=None):
    """tensors: {name: torch.Tensor}. Layout as the reference writer: sorted, contiguous, header padded to 8."""
    rev = {v: k for k, v in ST_TORCH.items()}
    items = sorted(tensors.items(), key=lambda kv: (-ST_ORDER.index(rev[kv[1].dtype]), kv[0]))
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name, t in items:
        b = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": rev[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def st_read(path):
    """Strict reader: returns (raw_header_bytes, {name: torch.Tensor}, metadata); asserts format rules."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), "header length beyond file"
    raw = data[8:8 + n]
    assert raw[:1] == b"{", "header must start with '{'"
    header = json.loads(raw.decode("utf-8"))
    buf = data[8 + n:]
    meta = header.pop("__metadata__", {})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()), "metadata must be str->str"
    out, spans = {}, []
    for name, e in header.items():
        assert set(e) == {"dtype", "shape", "data_offsets"}, f"{name}: fields {set(e)}"
        b, en = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.int64))
        assert en - b == count * ST_SIZE[e["dtype"]], f"{name}: byte count"
        spans.append((b, en, name))
        t = torch.frombuffer(bytearray(buf[b:en]), dtype=torch.uint8) if en > b else torch.empty(0, dtype=torch.uint8)
        out[name] = t.view(ST_TORCH[e["dtype"]]).reshape(e["shape"])
    pos = 0
    for b, en, name in sorted(spans):
        assert b == pos, f"{name}: offsets not contiguous ({b} != {pos})"
        pos = en
    assert pos == len(buf), "buffer not fully covered"
    return raw, out, meta


# --- expectations as exact bit patterns ---------------------------------------------------------------

def bits(a):
    """Exact JSON-safe representation: floats as unsigned bit patterns, ints/bools as ints."""
    a = np.ascontiguousarray(a).reshape(-1)
    a = a.astype(a.dtype.newbyteorder("="))  # bit patterns in native (little-endian) order
    if a.dtype.kind == "f":
        return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]).astype(np.uint64).tolist()
    return a.astype(np.int64).tolist()


def f32_bits_of_tensor(t):
    """float32 values the C# reader must produce (torch does the f16/bf16/f64 -> f32 conversion)."""
    return bits(t.to(torch.float32).numpy())


# --- fixture values -----------------------------------------------------------------------------------

def float_values(dt):
    fi = np.finfo(dt)
    v = [0.0, -0.0, 1.0, -2.5, 0.1, np.inf, -np.inf, np.nan, fi.max, fi.smallest_subnormal, np.pi, -1e-3]
    return np.array(v, dtype=dt).reshape(3, 4)


def int_values(dt):
    ii = np.iinfo(dt)
    v = [ii.min, ii.max, 0, 1, -1 if ii.min < 0 else 2, 42]
    return np.array(v, dtype=dt).reshape(2, 3)


NPY_DTYPES = ["b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "f2", "f4", "f8"]


def npy_values(code):
    dt = np.dtype(code)
    if dt.kind == "b":
        return np.array([[True, False, True], [False, False, True]])
    return float_values(dt) if dt.kind == "f" else int_values(dt)


def save(path, arr, version=None, allow_pickle=False):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=allow_pickle)


def make(out):
    os.makedirs(out, exist_ok=True)
    expected = {"npy": {}, "npy_rejected": {}, "safetensors": {}}

    def npy(name, arr, **kw):
        save(os.path.join(out, name), arr, **kw)
        expected["npy"][name] = {"descr": arr.dtype.str, "shape": list(arr.shape), "values": bits(arr)}

    for code in NPY_DTYPES:
        a = npy_values(code)
        npy(f"v1_{code}.npy", a, version=(1, 0))
        npy(f"v2_{code}.npy", a, version=(2, 0))
    npy("v3_f4.npy", npy_values("f4"), version=(3, 0))
    npy("be_f4.npy", npy_values("f4").astype(">f4"))
    npy("be_i8.npy", npy_values("i8").astype(">i8"))
    npy("be_u2.npy", npy_values("u2").astype(">u2"))
    npy("scalar_f8.npy", np.array(2.5))
    npy("scalar_i4.npy", np.array(-7, dtype=np.int32))
    npy("empty_0x3_f4.npy", np.zeros((0, 3), dtype=np.float32))
    npy("empty_3x0x2_i8.npy", np.zeros((3, 0, 2), dtype=np.int64))
    npy("vec5_i8.npy", np.arange(5, dtype=np.int64) * 1000000007)
    npy("cube_f4.npy", (np.arange(24, dtype=np.float32) / 7).reshape(2, 3, 4))

    def rejected(name, arr, message_part, **kw):
        save(os.path.join(out, name), arr, **kw)
        expected["npy_rejected"][name] = message_part

    rejected("reject_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)), "Fortran-ordered")
    rejected("reject_object.npy", np.array([1, "a", None], dtype=object), "object arrays", allow_pickle=True)
    rejected("reject_structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), "structured")
    rejected("reject_unicode.npy", np.array(["ab", "c"]), "unsupported dtype")
    rejected("reject_complex.npy", np.array([1 + 2j], dtype=np.complex64), "unsupported dtype")

    # safetensors: every float dtype (expected f32 bits from torch), ints, bool, 0-d, empty, metadata.
    src = torch.tensor([0.0, -0.0, 1.0, -2.5, 0.1, float("inf"), float("-inf"), float("nan"),
                        1.00390625, 3.0e38, 1e-40, -123.456], dtype=torch.float32)
    tensors = {
        "a.f32": src.reshape(3, 4),
        "b.f16": src[:8].to(torch.float16).reshape(2, 4),
        "c.bf16": src.to(torch.bfloat16).reshape(2, 6),
        "d.f64": torch.tensor([0.1, -1e300, 1e-320, 2.0 ** 70 + 1, float("nan")], dtype=torch.float64),
        "e.i64": torch.tensor([-(2 ** 63), 2 ** 63 - 1, 0, 16777217], dtype=torch.int64),
        "f.i32": torch.tensor([[-(2 ** 31), 2 ** 31 - 1, 5]], dtype=torch.int32),
        "g.u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "h.bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(1.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    meta = {"format": "pt", "note": "cedm fixture \u2713", "step": "123"}
    st_write(os.path.join(out, "mixed.safetensors"), tensors, meta)
    st_write(os.path.join(out, "no_metadata.safetensors"), {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)})
    for fname, ts, md in [("mixed.safetensors", tensors, meta),
                          ("no_metadata.safetensors", {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}, {})]:
        rev = {v: k for k, v in ST_TORCH.items()}
        expected["safetensors"][fname] = {
            "metadata": md,
            "tensors": {n: {"dtype": rev[t.dtype], "shape": list(t.shape), "f32_bits": f32_bits_of_tensor(t),
                            **({} if t.dtype.is_floating_point else {"ints": t.to(torch.int64).reshape(-1).tolist()})}
                        for n, t in ts.items()},
        }
        _, back, back_meta = st_read(os.path.join(out, fname))  # self-check of our own writer/reader pair
        assert back_meta == md and all(torch.equal(back[n].reshape(-1).view(torch.uint8),
                                                   ts[n].contiguous().reshape(-1).view(torch.uint8)) for n in ts)

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"wrote {len(os.listdir(out))} files, {total} bytes, into {out}")


# --- verify mode: values our C# writers must have produced (mirror of IoCrossCheckTests.cs) --------------

def verify_floats():
    """Specials, exact bf16 ties, f16 over/underflow, then a ramp ((i*7919) % 1000 - 500) / 37 in float32."""
    special_bits = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7FC00000, 0x7F800000, 0xFF800000,
                    0x7F7FFFFF, 0x00000001, 0x3F808000, 0x3F818000, 0x477FE000, 0x477FF000, 0x322BCC77,
                    0x7F7F8000, 0x7F800001, 0x33000000, 0x33000001]
    special = np.array(special_bits, dtype=np.uint32).view(np.float32)
    i = np.arange(46, dtype=np.int64)
    ramp = ((i * 7919) % 1000 - 500).astype(np.float32) / np.float32(37)
    return np.concatenate([special, ramp]).astype(np.float32)  # 64 values


def verify_npy_arrays():
    f = verify_floats()
    return {
        "ours_f4.npy": f.reshape(8, 8),
        "ours_f8.npy": (f.astype(np.float64) / 3).reshape(4, 16),  # sNaN cast warning silenced in verify()
        "ours_u1.npy": ((np.arange(300) * 37) % 256).astype(np.uint8).reshape(3, 100),
        "ours_i4.npy": np.array([-(2 ** 31), 2 ** 31 - 1, 0, -1, 123456789], dtype=np.int32),
        "ours_i8.npy": np.array([[-(2 ** 63), 2 ** 63 - 1], [0, 9007199254740993]], dtype=np.int64),
        "ours_scalar_f4.npy": np.array(-0.0, dtype=np.float32),
        "ours_empty_f4.npy": np.zeros((0, 3), dtype=np.float32),
        "ours_cube_f8.npy": np.arange(24, dtype=np.float64).reshape(2, 3, 4) - 11.5,
    }


def verify(d):
    failures = []

    def check(cond, msg):
        if not cond:
            failures.append(msg)
        return cond

    with np.errstate(invalid="ignore"):  # casting the signalling-NaN special raises the "invalid" flag
        arrays = verify_npy_arrays()
    for name, exp in arrays.items():
        path = os.path.join(d, name)
        if not check(os.path.exists(path), f"{name}: missing"):
            continue
        a = np.load(path, allow_pickle=False)
        ok = check(a.dtype == exp.dtype and a.shape == exp.shape, f"{name}: {a.dtype}{a.shape} != {exp.dtype}{exp.shape}")
        ok = ok and check(bits(a) == bits(exp), f"{name}: values differ")
        buf = io.BytesIO()
        np.save(buf, exp)
        check(open(path, "rb").read() == buf.getvalue(), f"{name}: bytes differ from np.save")
        if ok:
            print(f"ok  {name}  {a.dtype}{a.shape}")

    f = verify_floats()
    src = {"weight": torch.from_numpy(f.reshape(8, 8).copy()),
           "bias": torch.from_numpy(f[:5].copy()),
           "scalar": torch.tensor(0.1, dtype=torch.float32),
           "empty": torch.zeros(0, 3, dtype=torch.float32),
           "z.unicode.\u00e9": torch.from_numpy(f[40:46].copy()).reshape(2, 3)}
    meta = {"format": "pt", "step": "1000", "note": "caf\u00e9 \"quoted\""}
    for st in ["F32", "F16", "BF16", "F64"]:
        name = f"ours_{st.lower()}.safetensors"
        path = os.path.join(d, name)
        if not check(os.path.exists(path), f"{name}: missing"):
            continue
        try:
            raw, got, got_meta = st_read(path)
        except AssertionError as e:
            check(False, f"{name}: format rule violated: {e}")
            continue
        check((8 + len(raw)) % 8 == 0 and raw.rstrip(b" ").endswith(b"}"),
              f"{name}: header not space-padded to a multiple of 8")
        check(got_meta == meta, f"{name}: metadata {got_meta}")
        order = [k for k in json.loads(raw) if k != "__metadata__"]
        check(order == sorted(order), f"{name}: tensors not in name order: {order}")
        check(set(got) == set(src), f"{name}: tensor names {sorted(got)}")
        for tn, t in src.items():
            if tn not in got:
                continue
            g = got[tn]
            want = t.to(ST_TORCH[st])
            check(g.dtype == want.dtype and list(g.shape) == list(want.shape), f"{name}/{tn}: {g.dtype}{list(g.shape)}")
            gv, wv = g.to(torch.float64).reshape(-1), want.to(torch.float64).reshape(-1)
            nan_ok = torch.equal(torch.isnan(gv), torch.isnan(wv))
            g1, w1 = g.reshape(-1), want.reshape(-1)
            bits_ok = torch.equal(g1[~torch.isnan(g1)].view(torch.uint8), w1[~torch.isnan(w1)].view(torch.uint8))
            check(nan_ok and bits_ok, f"{name}/{tn}: values differ from torch's conversion")
        print(f"ok  {name}" if not any(x.startswith(name) for x in failures) else f"BAD {name}")

    for m in failures:
        print("FAIL", m)
    print("verify:", "FAILED" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--verify":
        if len(sys.argv) != 3:
            sys.exit("usage: make_io_fixtures.py --verify DIR")
        sys.exit(verify(sys.argv[2]))
    make(os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.normpath(DEFAULT_OUT))
