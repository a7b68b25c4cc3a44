"""Fashion-MNIST as Debian's dataset-fashion-mnist installs it, for the Python fixture, peer and experiment scripts.

IDX format: magic (2 zero bytes, dtype code 0x08 = uint8, number of dims), big-endian uint32 dims, then the bytes.
"""
import gzip
import os

import numpy as np

ROOT = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split="train"):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) of the train or test split."""
    prefix = "train" if split == "train" else "t10k"
    return (read_idx(os.path.join(ROOT, f"{prefix}-images-idx3-ubyte.gz")),
            read_idx(os.path.join(ROOT, f"{prefix}-labels-idx1-ubyte.gz")))
