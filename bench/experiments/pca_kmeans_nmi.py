"""Experiment: is cedm's whitened PCA as good a clustering input as scikit-learn's? (issue "Features and evaluation")

Fashion-MNIST train (60 000 images, pixels in [0, 1]):
  A. sklearn PCA(64, whiten=True) -> sklearn KMeans(10)       (the reference pipeline)
  B. cedm `features --extractor pca:64` -> sklearn KMeans(10) (isolates the PCA)
  and the agreement of the two feature sets (per-component |correlation|, explained variance).
NMI against the true labels (arithmetic normalisation, as spec §6.4), over several KMeans seeds.

Run: ./cedm features fashion-mnist --extractor pca:64 --out /tmp/fm_pca.npy
     /usr/bin/python3 bench/experiments/pca_kmeans_nmi.py /tmp/fm_pca.npy [ids.npy from `cedm cluster`...]
"""
import os
import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import normalized_mutual_info_score as nmi

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fashion_mnist  # noqa: E402


def load():
    x, y = fashion_mnist.load("train")
    return x.reshape(-1, 784).astype(np.float32) / 255.0, y


def kmeans_nmi(feats, y, seeds):
    scores = []
    for s in seeds:
        km = KMeans(10, n_init=1, random_state=s).fit(feats)
        scores.append(nmi(y, km.labels_))
    return np.array(scores)


def main():
    ours = np.load(sys.argv[1])
    x, y = load()
    t = time.time()
    ref = PCA(64, whiten=True, svd_solver="full").fit_transform(x)
    t_pca = time.time() - t
    corr = np.abs([np.corrcoef(ref[:, k], ours[:, k])[0, 1] for k in range(64)])
    print(f"sklearn PCA(64, whiten) fit+transform: {t_pca:.1f} s")
    print(f"|corr| of matching components: min {corr.min():.6f}, median {np.median(corr):.6f} (first 10: {np.round(corr[:10], 6)})")
    print(f"ours: per-feature std min {ours.std(0).min():.5f} max {ours.std(0).max():.5f}")
    seeds = range(5)
    a = kmeans_nmi(ref, y, seeds)
    b = kmeans_nmi(ours, y, seeds)
    print(f"A sklearn PCA + sklearn KMeans: NMI mean {a.mean():.4f} (min {a.min():.4f}, max {a.max():.4f}) over seeds {list(seeds)}")
    print(f"B cedm PCA    + sklearn KMeans: NMI mean {b.mean():.4f} (min {b.min():.4f}, max {b.max():.4f})")
    for path in sys.argv[2:]:
        ids = np.load(path)
        print(f"C cedm PCA + cedm clustering ({path}): NMI {nmi(y, ids):.4f}")


if __name__ == "__main__":
    main()
