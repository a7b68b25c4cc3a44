#!/usr/bin/python3
"""Reference-statistics fixtures for cedm's .npz reading (src/Cedm.Core/Metrics/ReferenceStatistics.cs).

  /usr/bin/python3 tools/make_npz_fixtures.py            # (re)writes tests/Cedm.Tests/Fixtures/npz/
  /usr/bin/python3 tools/make_npz_fixtures.py --verify STATS.npz [FEATURES.npy]

Fixture mode writes two small float64 feature sets a.npy (60 x 6) and b.npy (50 x 6), the statistics of a in
pytorch-fid's layout (mu = mean over rows, sigma = np.cov(rowvar=False), float64) as a_stats.npz (np.savez, stored
entries, as pytorch-fid --save-stats and EDM fid.py ref write) and a_stats_compressed.npz (np.savez_compressed), and
fd.txt: the Frechet distance of a_stats against b's statistics by pytorch-fid's formula (scipy.linalg.sqrtm), for the
C# tests to compare with (they need no Python).

Verify mode reads an .npz written by cedm (`cedm eval --save-ref`) with numpy, checks the layout (mu (D,), sigma
(D, D), float64, symmetric) and, given the features it was computed from, that mu and sigma match numpy's.
"""
import os, sys
import numpy as np
from scipy import linalg

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "Cedm.Tests", "Fixtures", "npz")


def stats(x):
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


def frechet(mu1, s1, mu2, s2):
    """pytorch-fid's calculate_frechet_distance (same formula; eps offset only if sqrtm fails, not needed here)."""
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def verify(path, features=None):
    z = np.load(path)
    mu, sigma = z["mu"], z["sigma"]
    assert mu.dtype == np.float64 and sigma.dtype == np.float64, (mu.dtype, sigma.dtype)
    assert mu.ndim == 1 and sigma.shape == (mu.shape[0],) * 2, (mu.shape, sigma.shape)
    assert np.allclose(sigma, sigma.T)
    if features is not None:
        m, s = stats(np.load(features).astype(np.float64))
        assert np.allclose(mu, m, rtol=1e-9, atol=1e-9), np.abs(mu - m).max()
        assert np.allclose(sigma, s, rtol=1e-9, atol=1e-9), np.abs(sigma - s).max()
    print(f"{path}: mu {mu.shape}, sigma {sigma.shape}, float64" + (f", equal to numpy's statistics of {features}" if features else ""))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--verify":
        verify(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
        return
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(19)
    a = rng.normal(size=(60, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(0.3, 1.0, size=(50, 6)) @ rng.normal(size=(6, 6))
    np.save(os.path.join(OUT, "a.npy"), a)
    np.save(os.path.join(OUT, "b.npy"), b)
    mu, sigma = stats(a)
    np.savez(os.path.join(OUT, "a_stats.npz"), mu=mu, sigma=sigma)
    np.savez_compressed(os.path.join(OUT, "a_stats_compressed.npz"), mu=mu, sigma=sigma)
    np.savez(os.path.join(OUT, "wrong_dim.npz"), mu=mu[:4], sigma=sigma[:4, :4])
    np.savez(os.path.join(OUT, "no_sigma.npz"), mu=mu)
    fd = frechet(mu, sigma, *stats(b))
    with open(os.path.join(OUT, "fd.txt"), "w") as f:
        f.write(f"{fd!r}\n")
    print("fd", fd)


if __name__ == "__main__":
    main()
