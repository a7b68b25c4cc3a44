#!/usr/bin/env bash
# Bound search on Gaussian blobs with known K: the evidence for BoundOptions.DefaultThreshold.
# For each (K, D, seed): N points in K isotropic blobs (centres N(0, 4^2 I), points centre + N(0, I), as
# Cedm.Clustering.GaussianBlobs), then `cedm bound --threshold 0.5 --k0 2` (τ low so the doubling runs well past
# the truth) prints the whole r(K) table; we read off where each τ would put K_UB.
# Then `cedm bound` at the default τ on the first file confirms K_UB.
# Usage: tools/experiments/bound_blobs.sh [out_dir]   (needs /usr/bin/python3 with numpy; a Release build of cedm)
set -euo pipefail
out=${1:-/tmp/cedm-bound-blobs}
mkdir -p "$out"
cedm="dotnet src/Cedm.Cli/bin/Release/net10.0/cedm.dll"
for cfg in "6 16 1200 1" "6 16 1200 2" "10 32 2000 4"; do
  set -- $cfg
  k=$1; d=$2; n=$3; seed=$4
  f="$out/blobs_k${k}_d${d}_s${seed}.npy"
  /usr/bin/python3 - "$f" "$k" "$d" "$n" "$seed" <<'PY'
import sys, numpy as np
f, k, d, n, seed = sys.argv[1], *map(int, sys.argv[2:])
rng = np.random.default_rng(seed)
c = rng.normal(0, 4, (k, d)); y = rng.permutation(np.arange(n) % k)
np.save(f, (c[y] + rng.normal(0, 1, (n, d))).astype(np.float32))
PY
  echo "== K=$k D=$d N=$n seed=$seed"
  $cedm bound "$f" --out "$out/bound_k${k}_d${d}_s${seed}.json" --threshold 0.5 --k0 2 --grid 3 --max-k 32 --seed "$seed" --force
done
echo "== default tau on K=6 D=16 seed=1"
$cedm bound "$out/blobs_k6_d16_s1.npy" --out "$out/bound_default_k6.json" --k0 2 --seed 1 --force
