#!/usr/bin/env bash
# Issue 15's comparison: FD_fmnist (with precision, recall, density, coverage) of six conditionings of the same
# network at an EQUAL kimg budget on Fashion-MNIST, two training seeds each:
#   uncond (none), labels, clusters:<K>, gmm-centroid, gmm-draw (gmm:<K> clusters) and oracle (features:<feats>),
# where the oracle run is sampled on the held-out test split's features (--features) and the others from p(c).
# Features: pca:<D> of the train split (the same map applied to the test split for the oracle's held-out features);
# clusters: k-means K on those features. All runs: tiny preset, batch 64, --p-uncond 0 (C-EDM's default).
# Usage: tools/experiments/feature_cond_compare.sh [out_dir] [kimg] [n_samples] [K] [cedm command]
#   defaults: /tmp/cedm-featcond 200 10000 10 "dotnet src/Cedm.Cli/bin/Release/net10.0/cedm.dll"
# Each run's eval also writes metrics.worst.png (the 16 samples of lowest realism score). PRDC and realism compare
# equally many real and generated vectors (--prdc-max N_SAMPLES; Naeem et al. 2020 use equal sets).
# Env: MODES (default all six, in the order below), SUFFIX (appended to run folder and table names, e.g. -d64),
#      SEEDS (default "0 1"), STEPS (sampler steps of the default solver, default 18), SUBSET (train on the first SUBSET images; default all),
#      FEAT (feature extractor, default pca:64), DIM (--feature-dim, default 64: pca:<D> features are already whitened, so d < D would keep an arbitrary subspace). Prints one line per run and a table.
# Cost: 12 trainings of KIMG kimg each plus 12 x N_SAMPLES samples; set CEDM_THREADS=1 on a shared machine.
set -euo pipefail
out=${1:-/tmp/cedm-featcond}
kimg=${2:-200}
n=${3:-10000}
k=${4:-10}
cedm=${5:-dotnet src/Cedm.Cli/bin/Release/net10.0/cedm.dll}
seeds=${SEEDS:-0 1}
steps=${STEPS:-18}
feat=${FEAT:-pca:64}
dim=${DIM:-64}
mkdir -p "$out"

train_src=fashion-mnist
test_src=fashion-mnist:test
if [[ -n "${SUBSET:-}" ]]; then
  # A subset as an npy: source (first SUBSET train images with labels; the first SUBSET test images too).
  /usr/bin/python3 - "$out" "$SUBSET" <<'PY'
import gzip, sys, numpy as np
out, m = sys.argv[1], int(sys.argv[2])
def idx(path, offset):
    with gzip.open(path) as f: return np.frombuffer(f.read(), np.uint8, offset=offset)
d = "/usr/share/datasets/fashion-mnist/"
for split, pre in (("train", "train"), ("test", "t10k")):
    x = idx(d + pre + "-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)[:m]
    y = idx(d + pre + "-labels-idx1-ubyte.gz", 8)[:m].astype(np.int64)
    np.save(f"{out}/{split}_x.npy", x); np.save(f"{out}/{split}_y.npy", y)
PY
  train_src="npy:$out/train_x.npy,$out/train_y.npy"
  test_src="npy:$out/test_x.npy,$out/test_y.npy"
fi

[[ -f "$out/feats.npy" ]] || $cedm features "$train_src" --extractor "$feat" --out "$out/feats.npy" > /dev/null
# The same PCA map on the held-out split (the fitted map is saved beside the features).
model=$(ls "$out"/feats.*.safetensors 2>/dev/null | head -1)
[[ -f "$out/test_feats.npy" ]] || $cedm features "$test_src" --extractor "${feat%%:*}:$model" --out "$out/test_feats.npy" > /dev/null
[[ -f "$out/clusters/ids.npy" ]] || $cedm cluster "$out/feats.npy" --method kmeans --k "$k" --out "$out/clusters" > /dev/null

declare -A cond=(
  [uncond]="none" [labels]="labels" [clusters]="clusters:$out/clusters"
  [gmm-centroid]="gmm:$out/clusters --gmm-mode centroid --feature-dim $dim"
  [gmm-draw]="gmm:$out/clusters --gmm-mode draw --feature-dim $dim"
  [oracle]="features:$out/feats.npy --feature-dim $dim"
)
suffix=${SUFFIX:-}
table="$out/table$suffix.txt"
printf "%-13s %4s %9s %9s %9s %9s %9s %9s %7s\n" mode seed fd precision recall density coverage r_below1 secs > "$table"
# Seeds outermost: a stopped run still leaves every mode's first seed.
for seed in $seeds; do
  for mode in ${MODES:-uncond labels clusters gmm-centroid gmm-draw oracle}; do
    run="$out/run_${mode}${suffix}_s$seed"
    start=$(date +%s)
    if [[ ! -f "$run/checkpoint.json" ]]; then
      # shellcheck disable=SC2086
      $cedm train "$train_src" --cond ${cond[$mode]} --out "$run" --kimg "$kimg" --batch 64 --seed "$seed" --force > /dev/null
    fi
    extra=()
    [[ $mode == oracle ]] && extra=(--features "$out/test_feats.npy")
    [[ -f "$run/samples.npy" ]] || $cedm sample "$run" --n "$n" --steps "$steps" --out "$run/samples.npy" --force "${extra[@]}" > /dev/null
    [[ -f "$run/metrics.json" ]] || $cedm eval "$test_src" "$run/samples.npy" --evaluator fmnist --worst 16 --prdc-max "$n" --out "$run/metrics.json" --force > /dev/null
    secs=$(( $(date +%s) - start ))
    /usr/bin/python3 - "$run/metrics.json" "$mode" "$seed" "$secs" >> "$table" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print("%-13s %4s %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %7s" % (sys.argv[2], sys.argv[3], m["fd"], m.get("precision", float("nan")),
      m.get("recall", float("nan")), m.get("density", float("nan")), m.get("coverage", float("nan")),
      m.get("realism_below_one", float("nan")), sys.argv[4]))
PY
    tail -1 "$table"
  done
done
echo "kimg $kimg, $n samples, K $k, $feat -> d $dim, steps $steps (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$table"
