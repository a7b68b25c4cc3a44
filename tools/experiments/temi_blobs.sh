#!/usr/bin/env bash
# TEMI's cpu preset on Gaussian blobs with known labels, over 10 runs: the evidence for TemiOptions.CpuDefault.
# 6 blobs in 16-D, N = 1 200 (centres N(0, 4^2 I), unit-variance points, as Cedm.Clustering.GaussianBlobs but drawn
# with numpy): data seed 11 with TEMI seeds 0-4, and data seeds 12-16 with TEMI seed 0. Prints ACC per run (cedm score),
# how many reach 0.95, and the seconds of each fit.
# Usage: tools/experiments/temi_blobs.sh [out_dir] [cedm command]   (default command: the Release build of this tree;
#        pass e.g. "dotnet /tmp/old/cedm.dll" to measure another build). Needs /usr/bin/python3 with numpy.
set -euo pipefail
out=${1:-/tmp/cedm-temi-blobs}
cedm=${2:-dotnet src/Cedm.Cli/bin/Release/net10.0/cedm.dll}
mkdir -p "$out"
ok=0; runs=0; accs=""
for pair in "11 0" "11 1" "11 2" "11 3" "11 4" "12 0" "13 0" "14 0" "15 0" "16 0"; do
  set -- $pair
  ds=$1; ts=$2
  f="$out/blobs_s${ds}.npy"
  /usr/bin/python3 - "$f" "$ds" <<'PY'
import sys, numpy as np
f, seed = sys.argv[1], int(sys.argv[2])
k, d, n = 6, 16, 1200
rng = np.random.default_rng(seed)
c = rng.normal(0, 4, (k, d)); y = rng.permutation(np.arange(n) % k)
np.save(f, (c[y] + rng.normal(0, 1, (n, d))).astype(np.float32)); np.save(f.replace(".npy", "_labels.npy"), y.astype(np.int64))
PY
  dir="$out/temi_d${ds}_t${ts}"
  start=$(date +%s.%N)
  $cedm cluster "$f" --method temi --k 6 --preset cpu --seed "$ts" --out "$dir" --force > /dev/null
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  acc=$($cedm score "$dir" "${f%.npy}_labels.npy" --json | /usr/bin/python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["acc"])')
  echo "data seed $ds, TEMI seed $ts: ACC $acc, ${secs%.*} s"
  accs="$accs $acc"; runs=$((runs + 1))
  if /usr/bin/python3 -c "import sys; sys.exit(0 if $acc >= 0.95 else 1)"; then ok=$((ok + 1)); fi
done
echo "ACC >= 0.95 in $ok of $runs runs:$accs (load: $(cut -d' ' -f1-3 /proc/loadavg))"
