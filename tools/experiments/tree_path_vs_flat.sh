#!/usr/bin/env bash
# Issue 14: C-EDM conditioned on the root-to-leaf paths of a cluster tree (--cond tree:<dir>) against flat
# conditioning on the same leaves (--cond clusters:<dir>) at an equal kimg budget, over training seeds; FD_fmnist of
# N samples (seeds 0..N-1) against the test images. Resumable: a finished (run, metrics) pair is skipped.
#
#   tools/experiments/tree_path_vs_flat.sh <tree-dir> [out-dir]   (env: KIMG=60 N=1000 SEEDS="0 1" CEDM_DLL=...)
set -euo pipefail
tree=${1:?a cedm cluster folder with treevae.json or tree.json}; out=${2:-$tree/../path-vs-flat}; kimg=${KIMG:-60}; n=${N:-1000}
root=$(cd "$(dirname "$0")/../.." && pwd)
dll=${CEDM_DLL:-$root/src/Cedm.Cli/bin/Release/net10.0/cedm.dll}
cedm() { dotnet "$dll" "$@"; }
mkdir -p "$out"
[ -f "$out/table.tsv" ] || printf 'cond\tseed\tkimg\ttrain_s\tfd\tprecision\trecall\n' > "$out/table.tsv"
for seed in ${SEEDS:-0 1}; do
  for kind in tree clusters; do
    r="$out/$kind-s$seed"
    [ -f "$r.metrics.json" ] && continue
    echo "[$(date +%H:%M:%S)] $kind seed $seed" >&2
    t0=$(date +%s)
    if [ -f "$r/config.json" ]; then cedm train fashion-mnist --resume --out "$r" --kimg "$kimg" > /dev/null
    else cedm train fashion-mnist --cond "$kind:$tree" --out "$r" --kimg "$kimg" --seed "$seed" > /dev/null; fi
    t1=$(date +%s)
    cedm sample "$r" --n "$n" --seed 0 --out "$r.samples.npy" --force > /dev/null
    cedm eval fashion-mnist:test "$r.samples.npy" --out "$r.partial.json" --force > /dev/null
    mv "$r.partial.json" "$r.metrics.json"
    /usr/bin/python3 - "$r.metrics.json" "$kind" "$seed" "$kimg" "$((t1 - t0))" >> "$out/table.tsv" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{sys.argv[4]}\t{sys.argv[5]}\t{m['fd']:.2f}\t{m['precision']:.3f}\t{m['recall']:.3f}")
PY
    tail -1 "$out/table.tsv"
  done
done
