#!/usr/bin/python3
"""Picture fixtures for cedm's JPEG/BMP/GIF/TGA reading (src/Cedm.Core/Imaging/ImageFile.cs).

Run with Debian's python (python3-numpy, python3-pil; `bash tools/install-deps.sh --python`):

  /usr/bin/python3 tools/make_image_fixtures.py      # (re)writes tests/Cedm.Tests/Fixtures/images/

For each NAME.EXT written by PIL it writes NAME.npy: PIL's own decode of that file (uint8, [H, W, C]), which
cedm's decode must match (exactly for the lossless formats, within the tolerance stated in docs/data.md for
JPEG, whose decoders may differ in IDCT rounding and chroma upsampling). It also writes broken JPEGs that
must be refused: a truncated file and one with a damaged frame header. Images are small (about 1 KB each).
"""
import io, os
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "Cedm.Tests", "Fixtures", "images")
H, W = 20, 24


def pattern(channels, seed):
    """A smooth gradient with a hard-edged square and a little noise: it exercises both flat areas and edges."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    planes = []
    for c in range(channels):
        p = 40 + 6 * x + 4 * y + 30 * c
        p[5:12, 6:15] = 230 - 60 * c
        planes.append(p + rng.integers(-8, 9, size=p.shape))
    return np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)


def save(name, img, **kw):
    path = os.path.join(OUT, name)
    img.save(path, **kw)
    decoded = np.asarray(Image.open(path).convert(img.mode if img.mode in ("L", "RGB", "RGBA") else "RGB"))
    if decoded.ndim == 2:
        decoded = decoded[:, :, None]
    np.save(os.path.splitext(path)[0] + ".npy", decoded)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb = Image.fromarray(pattern(3, 1), "RGB")
    gray = Image.fromarray(pattern(1, 2)[:, :, 0], "L")
    for q in (50, 75, 95):
        save(f"rgb_q{q}.jpg", rgb, quality=q)                        # PIL default: 4:2:0 chroma subsampling
    save("rgb_q90_444.jpg", rgb, quality=90, subsampling=0)
    save("rgb_q85_progressive.jpg", rgb, quality=85, progressive=True)
    save("gray_q75.jpg", gray, quality=75)
    save("rgb24.bmp", rgb)
    save("rgb.tga", rgb)
    rgba = np.concatenate([pattern(3, 3), np.tile(np.arange(W, dtype=np.uint8)[None, :, None] * 10, (H, 1, 1))], -1)
    save("rgba.tga", Image.fromarray(rgba, "RGBA"))
    # An animated GIF: cedm reads the first frame; PIL's first frame (palette -> RGB) is the reference.
    frames = [Image.fromarray(pattern(3, 4 + i), "RGB").quantize(colors=32) for i in range(2)]
    path = os.path.join(OUT, "anim.gif")
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    first = Image.open(path)
    first.seek(0)
    np.save(os.path.join(OUT, "anim.npy"), np.asarray(first.convert("RGB")))

    whole = open(os.path.join(OUT, "rgb_q75.jpg"), "rb").read()
    open(os.path.join(OUT, "broken_truncated.jpg"), "wb").write(whole[: len(whole) * 2 // 3])
    damaged = bytearray(whole)
    sof = damaged.find(b"\xff\xc0")
    damaged[sof + 5: sof + 9] = b"\x00\x00\x00\x00"   # frame header: height 0 and width 0
    open(os.path.join(OUT, "broken_header.jpg"), "wb").write(bytes(damaged))
    for name in ("broken_truncated.jpg", "broken_header.jpg"):
        try:
            Image.open(os.path.join(OUT, name)).load()
            raise SystemExit(f"{name}: PIL decoded it; it is meant to be broken")
        except (OSError, SyntaxError, ValueError):
            pass
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
