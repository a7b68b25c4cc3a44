#!/usr/bin/env bash
# Experiment: is FD_fmnist (the shipped Fashion-MNIST evaluator, `fmnist`) a sane distance? (issue "Features and evaluation")
#   FD(train 10k, test 10k) must be small, FD(train, Gaussian-noised test) must grow monotonically with σ,
#   FD(train, pure uniform noise) must be huge. Noise: x' = clip(x/255 + σ·ε, 0, 1) re-quantised to bytes (σ in
#   [0, 1] pixel units), the same definition as tests/Cedm.Tests/Features/Evaluator/ShippedEvaluatorTests.cs.
# Run from the repository root: bash bench/experiments/fd_fmnist_sanity.sh [work-dir]
#
# Measured 2026-11-22 with the shipped evaluator (2 shared cores, 49 s for all 90k images):
#   test 0.159 | σ 0.02: 0.316 | 0.05: 2.14 | 0.1: 9.49 | 0.2: 35.4 | 0.3: 74.6 | 0.5: 147.9 | uniform noise: 293.6
# Needs /usr/bin/python3 with numpy only to write the noisy image arrays; every feature and FD comes from cedm.
set -euo pipefail
WORK=${1:-/tmp/fd_fmnist_sanity}
CEDM=${CEDM:-"dotnet src/Cedm.Cli/bin/Release/net10.0/cedm.dll"}
mkdir -p "$WORK"
/usr/bin/python3 - "$WORK" <<'PY'
import gzip, sys
import numpy as np
root, out = "/usr/share/datasets/fashion-mnist", sys.argv[1]
def images(name):
    with gzip.open(f"{root}/{name}-images-idx3-ubyte.gz") as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
train, test = images("train"), images("t10k")
rng = np.random.default_rng(0)
np.save(f"{out}/train10k.npy", train[rng.permutation(len(train))[:10000]])
np.save(f"{out}/test.npy", test)
for s in [0.02, 0.05, 0.1, 0.2, 0.3, 0.5]:
    noisy = np.clip(test / 255.0 + s * rng.standard_normal(test.shape), 0, 1)
    np.save(f"{out}/test_noise{s}.npy", np.round(noisy * 255).astype(np.uint8))
np.save(f"{out}/uniform.npy", rng.integers(0, 256, size=(10000, 28, 28), dtype=np.uint8))
PY
feat() { $CEDM features "npy:$WORK/$1.npy" --extractor fmnist --out "$WORK/$1.f.npy" --force > /dev/null; }
feat train10k
printf "%-14s %s\n" "set" "FD_fmnist(train 10k, set)"
for s in test test_noise0.02 test_noise0.05 test_noise0.1 test_noise0.2 test_noise0.3 test_noise0.5 uniform; do
  feat "$s"
  printf "%-14s %s\n" "$s" "$($CEDM fd "$WORK/train10k.f.npy" "$WORK/$s.f.npy" --json)"
done
