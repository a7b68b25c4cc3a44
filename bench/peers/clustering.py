"""scikit-learn peer of the clustering suite (case names match ClusteringSuite.cs).

Features: the real Fashion-MNIST train split (60,000 images, gz IDX under /usr/share/datasets/fashion-mnist/), pixels
scaled to [0, 1], PCA to 50 components with sklearn (whiten=False, svd_solver="full", so it is deterministic), saved as
float32 .npy to FEATURES (printed) so that both sides cluster identical numbers. `--prepare` only writes the file.

Cases: KMeans K=10 and K=100 (k-means++, n_init=1, random_state=0, sklearn defaults otherwise); K=10 from one given
start (sklearn's k-means++ centres for random_state=0, saved to INIT_K10, used by both sides: same start, so the
iteration counts must agree and the time compares iterations alone); K=10 over random_state 0-4 (sum of the times,
mean inertia and NMI, total iterations: one seed's iteration count varies 20-130 at K=10); GaussianMixture K=10 diag and full
(k-means init, n_init=1). Each case line carries the fit quality next to the time: inertia (k-means) or mean
log-likelihood (GMM) and NMI against the true labels.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from fashion_mnist import read_idx  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
FEATURES = os.path.join(os.environ.get("TMPDIR", "/tmp"), "cedm-bench-clustering", "fmnist-train-pca50.npy")
LABELS = FEATURES.replace(".npy", "-labels.npy")
INIT_K10 = FEATURES.replace(".npy", "-init-k10.npy")  # sklearn's k-means++ centres (random_state=0): one start for both
LABELS_K10 = FEATURES.replace(".npy", "-kmeans-k10.npy")  # sklearn's KMeans(10, random_state=0) labels: one GMM start for both
SEEDS = range(5)



def prepare():
    if os.path.exists(FEATURES) and os.path.exists(LABELS):
        feats = np.ascontiguousarray(np.load(FEATURES))
        write_init(feats)
        return feats, np.load(LABELS)
    from sklearn.decomposition import PCA
    x = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz")).reshape(60000, -1).astype(np.float64) / 255.0
    y = read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    feats = PCA(n_components=50, whiten=False, svd_solver="full").fit_transform(x)
    feats = np.ascontiguousarray(feats, dtype=np.float32)
    os.makedirs(os.path.dirname(FEATURES), exist_ok=True)
    np.save(FEATURES + ".tmp.npy", feats)
    os.replace(FEATURES + ".tmp.npy", FEATURES)
    np.save(LABELS, y)
    write_init(feats)
    return feats, y


def write_init(feats):
    if not os.path.exists(INIT_K10):
        from sklearn.cluster import kmeans_plusplus
        centres, _ = kmeans_plusplus(feats, 10, random_state=0)
        np.save(INIT_K10 + ".tmp.npy", np.ascontiguousarray(centres, dtype=np.float32))
        os.replace(INIT_K10 + ".tmp.npy", INIT_K10)
    if not os.path.exists(LABELS_K10):
        from sklearn.cluster import KMeans
        labels = KMeans(n_clusters=10, n_init=1, random_state=0).fit(feats).labels_
        np.save(LABELS_K10 + ".tmp.npy", labels.astype(np.int64))
        os.replace(LABELS_K10 + ".tmp.npy", LABELS_K10)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--prepare", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sample-ms", type=float, default=50.0)
    p.add_argument("--cases", default=None, help="comma-separated case names to run (default: all)")
    args = p.parse_args()
    x, y = prepare()
    if args.prepare:
        print(json.dumps({"info": f"features {FEATURES} {x.shape}"}), flush=True)
        return
    try:
        import sklearn
        from sklearn.cluster import KMeans
        from sklearn.metrics import normalized_mutual_info_score
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits
    except ImportError as e:
        print(json.dumps({"error": f"cannot import scikit-learn ({e})"}), flush=True)
        sys.exit(3)
    from _peer import selected, time_case
    # sklearn's k-means parallelises with OpenMP; GMM leans on BLAS: both get --threads.
    threadpool_limits(args.threads)
    print(json.dumps({"info": f"sklearn {sklearn.__version__}, threads {args.threads}, features {FEATURES} {x.shape}"}), flush=True)

    def kmeans(k):
        m = KMeans(n_clusters=k, n_init=1, random_state=0).fit(x)
        return {"inertia": float(m.inertia_), "nmi": normalized_mutual_info_score(y, m.labels_), "iterations": int(m.n_iter_)}

    def kmeans_from_init():
        c0 = np.load(INIT_K10)
        m = KMeans(n_clusters=10, init=c0, n_init=1).fit(x)
        return {"inertia": float(m.inertia_), "nmi": normalized_mutual_info_score(y, m.labels_), "iterations": int(m.n_iter_)}

    def kmeans_seeds(k):
        fits = [KMeans(n_clusters=k, n_init=1, random_state=s).fit(x) for s in SEEDS]
        return {"inertia": float(np.mean([m.inertia_ for m in fits])),
                "nmi": float(np.mean([normalized_mutual_info_score(y, m.labels_) for m in fits])),
                "iterations": int(sum(m.n_iter_ for m in fits))}

    def gmm(k, cov):
        m = GaussianMixture(n_components=k, covariance_type=cov, n_init=1, random_state=0).fit(x)
        labels = m.predict(x)
        return {"loglik": float(m.score(x)), "nmi": normalized_mutual_info_score(y, labels), "iterations": int(m.n_iter_)}

    def gmm_from_labels(cov):
        # sklearn's own k-means initialisation, done by hand from the saved labels: the M-step on hard
        # responsibilities, then EM (the same start as GaussianMixture.FitFrom on the C# side).
        from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky, _estimate_gaussian_parameters
        labels = np.load(LABELS_K10)
        resp = np.zeros((x.shape[0], 10))
        resp[np.arange(x.shape[0]), labels] = 1
        weights, means, covariances = _estimate_gaussian_parameters(x, resp, 1e-6, cov)
        prec_chol = _compute_precision_cholesky(covariances, cov)
        precisions = prec_chol ** 2 if cov == "diag" else np.einsum("kij,klj->kil", prec_chol, prec_chol)
        m = GaussianMixture(n_components=10, covariance_type=cov, n_init=1, weights_init=weights / x.shape[0],
                            means_init=means, precisions_init=precisions).fit(x)
        labels_out = m.predict(x)
        return {"loglik": float(m.score(x)), "nmi": normalized_mutual_info_score(y, labels_out), "iterations": int(m.n_iter_)}

    cases = [("kmeans-k10", lambda: kmeans(10)), ("kmeans-k100", lambda: kmeans(100)),
             ("kmeans-k10-init", kmeans_from_init), ("kmeans-k10-5seeds", lambda: kmeans_seeds(10)),
             ("gmm-k10-diag", lambda: gmm(10, "diag")), ("gmm-k10-full", lambda: gmm(10, "full")),
             ("gmm-k10-diag-init", lambda: gmm_from_labels("diag")), ("gmm-k10-full-init", lambda: gmm_from_labels("full"))]
    for name, fn in cases:
        if not selected(name, args):
            continue
        last = {}
        time_case(name, lambda: last.update(fn()), args)  # quality of the last timed call, no extra fit
        print(json.dumps({"quality": name, **last}), flush=True)


if __name__ == "__main__":
    main()
