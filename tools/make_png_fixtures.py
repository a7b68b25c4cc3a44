#!/usr/bin/python3
"""PNG fixtures for cedm's decoder tests, and a PIL cross-check of cedm's encoder.

Run with Debian's python (it has python3-numpy and python3-pil):

  /usr/bin/python3 tools/make_png_fixtures.py            # (re)writes tests/Cedm.Tests/Fixtures/png/
  /usr/bin/python3 tools/make_png_fixtures.py --verify DIR

Fixture mode writes, for every PNG colour type and bit depth, a small PNG plus NAME.expected: the pixels a
decoder must produce, as an ASCII header line "width height channels bitdepth\\n" followed by the samples
[height, width, channels] (uint8, or uint16 little-endian when bitdepth is 16). Palettes are expanded to
RGB/RGBA, tRNS becomes an alpha channel, gray at 1/2/4 bits is scaled to 0..255 (PNG spec 13.12).
Files PIL can write are written by PIL; the rest (gray 2/4 bit, 16-bit colour, tRNS on gray/RGB, Adam7
interlace, every filter type) by the small writer below, and every file is read back with PIL as a check.

Verify mode decodes with PIL every DIR/NAME.png that has a DIR/NAME.expected beside it (written by cedm's
tests from cedm's encoder) and exits non-zero on any mismatch.
"""
import os, struct, sys, zlib
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "Cedm.Tests", "Fixtures", "png")


def write_expected(path, arr, depth):
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    h, w, c = arr.shape
    with open(path, "wb") as f:
        f.write(f"{w} {h} {c} {depth}\n".encode("ascii"))
        f.write(arr.astype("<u2" if depth == 16 else np.uint8).tobytes())


def read_expected(path):
    with open(path, "rb") as f:
        w, h, c, depth = map(int, f.readline().split())
        data = np.frombuffer(f.read(), "<u2" if depth == 16 else np.uint8)
    return data.reshape(h, w, c), depth


# ---- A minimal independent PNG writer (PNG spec sections 5, 7, 8.2, 9, 11) ----------------------------------

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_row(ftype, row, prior, bpp):
    out = bytearray([ftype])
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prior[i]
        c = prior[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
        out.append((x - pred) & 0xFF)
    return out


def pack_row(samples, depth):
    """samples: 1-D int array of one scanline (all samples of all pixels) -> bytes, MSB first."""
    if depth == 8:
        return bytes(samples.astype(np.uint8))
    if depth == 16:
        return samples.astype(">u2").tobytes()
    bits = np.unpackbits(samples.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:].reshape(-1)
    return bytes(np.packbits(bits))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def raw_png(path, samples, depth, color_type, interlace=False, plte=None, trns=None):
    """samples: [h, w, spp] ints at the file's bit depth. Rows cycle through filter types 0..4."""
    h, w, spp = samples.shape
    bpp = max(1, spp * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = bytearray()
    k = 0
    for xs, ys, dx, dy in passes:
        sub = samples[ys::dy, xs::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prior = bytes(len(pack_row(sub[0].reshape(-1), depth)))
        for row in sub:
            packed = pack_row(row.reshape(-1), depth)
            raw += filter_row(k % 5, packed, prior, bpp)
            prior = packed
            k += 1
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace)))
    if plte is not None:
        png += chunk(b"PLTE", bytes(np.asarray(plte, np.uint8).reshape(-1)))
    if trns is not None:
        png += chunk(b"tRNS", trns)
    png += chunk(b"tEXt", b"Comment\x00cedm fixture")  # an ancillary chunk decoders must skip
    z = zlib.compress(bytes(raw), 9)
    half = len(z) // 2                                  # two IDAT chunks: data may be split anywhere
    png += chunk(b"IDAT", z[:half]) + chunk(b"IDAT", z[half:]) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


# ---- Fixture mode -------------------------------------------------------------------------------------------

def pattern(rng, h, w, c, maxv):
    """A smooth gradient plus noise, so every filter type is exercised."""
    y, x = np.mgrid[0:h, 0:w]
    base = (x * 7 + y * 13)[:, :, None] + np.arange(c)[None, None, :] * 50
    noise = rng.integers(0, maxv // 8 + 1, size=(h, w, c))
    return ((base * (maxv // 64 + 1) + noise) % (maxv + 1)).astype(np.int64)


def pil_check(path, expected, convert=None):
    im = Image.open(path)
    if convert:
        im = im.convert(convert)
    got = np.array(im)
    if got.ndim == 2:
        got = got[:, :, None]
    if got.dtype == bool:
        got = got.astype(np.uint8) * 255
    assert got.shape == expected.shape and np.array_equal(got.astype(np.int64), expected.astype(np.int64)), path


def make_fixtures():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)
    H, W = 11, 13  # odd sizes: partial bytes at low bit depths, uneven Adam7 passes

    def out(name):
        return os.path.join(OUT, name)

    # PIL-written files.
    g8 = pattern(rng, H, W, 1, 255)
    Image.fromarray(g8[:, :, 0].astype(np.uint8), "L").save(out("gray8.png")); write_expected(out("gray8.expected"), g8, 8)
    g16 = pattern(rng, H, W, 1, 65535)
    Image.fromarray(g16[:, :, 0].astype(np.uint16)).save(out("gray16.png")); write_expected(out("gray16.expected"), g16, 16)
    g1 = (pattern(rng, H, W, 1, 255) > 127).astype(np.uint8)
    Image.fromarray(g1[:, :, 0].astype(bool)).save(out("gray1.png")); write_expected(out("gray1.expected"), g1 * 255, 8)
    la = pattern(rng, H, W, 2, 255)
    Image.fromarray(la.astype(np.uint8), "LA").save(out("graya8.png")); write_expected(out("graya8.expected"), la, 8)
    rgb = pattern(rng, H, W, 3, 255)
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(out("rgb8.png")); write_expected(out("rgb8.expected"), rgb, 8)
    rgba = pattern(rng, H, W, 4, 255)
    Image.fromarray(rgba.astype(np.uint8), "RGBA").save(out("rgba8.png")); write_expected(out("rgba8.expected"), rgba, 8)
    pal = rng.integers(0, 256, size=(256, 3))
    idx = pattern(rng, H, W, 1, 255)[:, :, 0]  # uses most of 256 entries, so PIL keeps bit depth 8
    p = Image.fromarray(idx.astype(np.uint8), "P"); p.putpalette(pal.astype(np.uint8).reshape(-1).tolist())
    p.save(out("palette8.png")); write_expected(out("palette8.expected"), pal[idx], 8)
    alpha = rng.integers(0, 256, size=256); alpha[200:] = 255
    p.save(out("palette8_trns.png"), transparency=bytes(alpha[:200].astype(np.uint8)))
    write_expected(out("palette8_trns.expected"), np.concatenate([pal[idx], alpha[idx][:, :, None]], axis=2), 8)
    idx4 = pattern(rng, H, W, 1, 15)[:, :, 0]
    p4 = Image.fromarray(idx4.astype(np.uint8), "P"); p4.putpalette(pal[:16].astype(np.uint8).reshape(-1).tolist())
    p4.save(out("palette4.png"), bits=4); write_expected(out("palette4.expected"), pal[:16][idx4], 8)

    # Written by the small writer: what PIL cannot write.
    g2 = pattern(rng, H, W, 1, 3)
    raw_png(out("gray2.png"), g2, 2, 0); write_expected(out("gray2.expected"), g2 * 85, 8)
    g4 = pattern(rng, H, W, 1, 15)
    raw_png(out("gray4_adam7.png"), g4, 4, 0, interlace=True); write_expected(out("gray4_adam7.expected"), g4 * 17, 8)
    rgb16 = pattern(rng, H, W, 3, 65535)
    raw_png(out("rgb16.png"), rgb16, 16, 2); write_expected(out("rgb16.expected"), rgb16, 16)
    rgba16 = pattern(rng, H, W, 4, 65535)
    raw_png(out("rgba16_adam7.png"), rgba16, 16, 6, interlace=True); write_expected(out("rgba16_adam7.expected"), rgba16, 16)
    la16 = pattern(rng, H, W, 2, 65535)
    raw_png(out("graya16.png"), la16, 16, 4); write_expected(out("graya16.expected"), la16, 16)
    rgb8i = pattern(rng, H, W, 3, 255)
    raw_png(out("rgb8_adam7.png"), rgb8i, 8, 2, interlace=True); write_expected(out("rgb8_adam7.expected"), rgb8i, 8)
    idx2 = pattern(rng, H, W, 1, 3)
    raw_png(out("palette2_adam7.png"), idx2, 2, 3, interlace=True, plte=pal[:4]); write_expected(out("palette2_adam7.expected"), pal[:4][idx2[:, :, 0]], 8)
    # tRNS on gray and RGB: one colour becomes fully transparent.
    gk = pattern(rng, H, W, 1, 255); key = int(gk[0, 0, 0])
    raw_png(out("gray8_trns.png"), gk, 8, 0, trns=struct.pack(">H", key))
    write_expected(out("gray8_trns.expected"), np.concatenate([gk, np.where(gk == key, 0, 255)], axis=2), 8)
    ck = pattern(rng, H, W, 3, 255); ck[2, 3] = ck[0, 0]; kc = ck[0, 0]
    raw_png(out("rgb8_trns.png"), ck, 8, 2, trns=struct.pack(">HHH", *map(int, kc)))
    transparent = np.all(ck == kc, axis=2, keepdims=True)
    write_expected(out("rgb8_trns.expected"), np.concatenate([ck, np.where(transparent, 0, 255)], axis=2), 8)

    # Cross-check every file with PIL (independent decoder) where PIL's output is comparable.
    for name in ["gray8", "gray1", "graya8", "rgb8", "rgba8", "gray2", "rgb8_adam7"]:
        e, _ = read_expected(out(name + ".expected")); pil_check(out(name + ".png"), e)
    for name in ["gray16"]:
        e, _ = read_expected(out(name + ".expected")); pil_check(out(name + ".png"), e)
    for name in ["gray4_adam7"]:
        e, _ = read_expected(out(name + ".expected")); pil_check(out(name + ".png"), e, "L")
    for name in ["palette8", "palette4", "palette2_adam7"]:
        e, _ = read_expected(out(name + ".expected")); pil_check(out(name + ".png"), e, "RGB")
    for name in ["palette8_trns", "gray8_trns", "rgb8_trns"]:
        e, _ = read_expected(out(name + ".expected"))
        mode = "LA" if e.shape[2] == 2 else "RGBA"
        pil_check(out(name + ".png"), e, mode)
    for name in ["rgb16", "rgba16_adam7", "graya16"]:
        # PIL reduces 16-bit colour to 8 bits by taking the high byte; compare at that precision.
        e, _ = read_expected(out(name + ".expected"))
        pil_check(out(name + ".png"), e >> 8, "RGBA" if e.shape[2] == 4 else ("RGB" if e.shape[2] == 3 else "LA"))
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files ({total} bytes) to {os.path.normpath(OUT)}; all read back by PIL")


# ---- Verify mode ---------------------------------------------------------------------------------------------

def verify(folder):
    names = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".png") and os.path.exists(os.path.join(folder, f[:-4] + ".expected")))
    if not names:
        print(f"verify: no NAME.png with NAME.expected in {folder}", file=sys.stderr)
        return 1
    bad = 0
    for name in names:
        expected, depth = read_expected(os.path.join(folder, name + ".expected"))
        im = Image.open(os.path.join(folder, name + ".png"))
        im.load()
        got = np.array(im)
        if got.ndim == 2:
            got = got[:, :, None]
        ok = got.shape == expected.shape and np.array_equal(got.astype(np.int64), expected.astype(np.int64))
        print(f"{'ok  ' if ok else 'FAIL'} {name}.png mode={im.mode} size={im.size} expected {expected.shape}")
        bad += not ok
    print(f"verify: {len(names) - bad}/{len(names)} PNGs decode with PIL to the expected pixels")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        sys.exit(verify(sys.argv[2]))
    if len(sys.argv) != 1:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    make_fixtures()
