#!/usr/bin/env bash
# The diagnosis behind TemiOptions.MomentumReferenceSteps: why TEMI heads merged blobs that k-means separates.
# TemiProbe (tools/experiments/TemiProbe) trains TEMI with a preset plus TemiOptions overrides and prints, per seed,
# every teacher head's used clusters / NMI / final loss and the head the best-head rule picked, so initialisation,
# schedule and head choice can be told apart.
#   1. 17 blobs in 48-D (make_blobs std 2.5, N = 6000): the recipe's constant teacher momentum 0.996 vs 0.988 vs 0.96.
#   2. the unit-test case (Cedm.Clustering.GaussianBlobs 800 x 10 x 24, seed 3; 4 heads): scaling off vs on.
# Usage: tools/experiments/temi_probe.sh [out_dir]   (needs /usr/bin/python3 with numpy + sklearn)
set -euo pipefail
out=${1:-/tmp/cedm-temi-probe}
mkdir -p "$out"
dotnet build tools/experiments/TemiProbe -c Release -o "$out/probe" --nologo -v q > /dev/null
probe="dotnet $out/probe/TemiProbe.dll"
/usr/bin/python3 - "$out/b17.npy" <<'PY'
import sys, numpy as np
from sklearn.datasets import make_blobs
x, y = make_blobs(n_samples=6000, n_features=48, centers=17, cluster_std=2.5, random_state=0)
np.save(sys.argv[1], x.astype(np.float32)); np.save(sys.argv[1].replace(".npy", "_labels.npy"), y.astype(np.int64))
PY
export CEDM_THREADS=1
for m in "MomentumReferenceSteps=0" "MomentumReferenceSteps=0 TeacherMomentum=0.988" "MomentumReferenceSteps=0 TeacherMomentum=0.96" ""; do
  # shellcheck disable=SC2086
  $probe "$out/b17.npy" "$out/b17_labels.npy" 17 cpu 1-5 $m
done
$probe blobs:800,10,24,3 - 10 cpu 0-2 Heads=4 MomentumReferenceSteps=0
$probe blobs:800,10,24,3 - 10 cpu 0-2 Heads=4
