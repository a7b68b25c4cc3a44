#!/usr/bin/env bash
# Issue 15: the auxiliary noisy-image classifier trained with NGMG against softmax cross-entropy, on a gmm: run of
# tools/experiments/feature_cond_compare.sh. For each objective: accuracy and mean guidance-gradient norm |grad_x L| on
# the held-out test images noised at sigma in {0.1, 0.5, 1, 2, 5} (classes: the run's mixture component of highest
# posterior at each test image's own feature; "overlap" = that posterior below 0.9), then FD_fmnist (+ PRDC on equal
# real/sample counts) of N classifier-guided samples at each weight, against the unguided samples of the same seeds.
# Resumable: finished files are kept.
#   tools/experiments/ngmg_vs_ce.sh <run> <test_feats.npy> [out] (env: N=1000 STEPS=4000 WEIGHTS="1 4" CEDM_DLL=...)
set -euo pipefail
run=${1:?a gmm: run folder}; feats=${2:?the test split features from the run extractor}; out=${3:-$run/../ngmg}
n=${N:-1000}; steps=${STEPS:-4000}; weights=${WEIGHTS:-1 4}
root=$(cd "$(dirname "$0")/../.." && pwd)
dll=${CEDM_DLL:-$root/src/Cedm.Cli/bin/Release/net10.0/cedm.dll}
cedm() { dotnet "$dll" "$@"; }
mkdir -p "$out"
for objective in ngmg ce; do
  clf="$out/$objective.safetensors"
  [ -f "$out/$objective.json" ] || cedm classifier "$run" --objective "$objective" --steps "$steps" --batch 64 --width 32 --out "$clf" --force \
    --eval-source fashion-mnist:test --eval-features "$feats" --json > "$out/$objective.json"
done
[ -f "$out/unguided.metrics.json" ] || {
  [ -f "$out/unguided.npy" ] || cedm sample "$run" --n "$n" --out "$out/unguided.npy" --force > /dev/null
  cedm eval fashion-mnist:test "$out/unguided.npy" --evaluator fmnist --prdc-max "$n" --worst 16 --out "$out/unguided.metrics.json" --force > /dev/null
}
for objective in ngmg ce; do
  for w in $weights; do
    s="$out/$objective-w$w"
    [ -f "$s.metrics.json" ] && continue
    [ -f "$s.npy" ] || cedm sample "$run" --n "$n" --out "$s.npy" --classifier "$out/$objective.safetensors" --classifier-guidance "$w" --force > /dev/null
    cedm eval fashion-mnist:test "$s.npy" --evaluator fmnist --prdc-max "$n" --worst 16 --out "$s.metrics.json" --force > /dev/null
  done
done
/usr/bin/python3 - "$out" $weights <<'PY'
import json, sys, os
out, weights = sys.argv[1], sys.argv[2:]
print("objective  sigma  accuracy  |grad| all  overlap  separated")
for o in ("ngmg", "ce"):
    h = json.load(open(f"{out}/{o}.json"))["held_out"]
    for s in h["accuracy"]:
        f = lambda k: h[k][s] if h[k][s] is not None else float("nan")
        print(f"{o:9s} {s:>6s} {f('accuracy'):9.3f} {f('grad_norm'):11.4g} {f('grad_norm_overlap'):8.4g} {f('grad_norm_separated'):10.4g}")
    print(f"  ({h['count']} test images, {h['overlap_count']} in the overlap set)")
print("\nsamples            fd   precision  recall  density  coverage  realism<1")
rows = [("unguided", "unguided")] + [(f"{o} w={w}", f"{o}-w{w}") for o in ("ngmg", "ce") for w in weights]
for name, stem in rows:
    m = json.load(open(f"{out}/{stem}.metrics.json"))
    print(f"{name:14s} {m['fd']:7.3f} {m['precision']:10.3f} {m['recall']:7.3f} {m['density']:8.3f} {m['coverage']:9.3f} {m['realism_below_one']:9.3f}")
PY
