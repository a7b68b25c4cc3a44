#!/usr/bin/env bash
# Issue 14's TreeVAE measurements on Fashion-MNIST, one resumable folder (a step whose output exists is skipped):
#   1. TreeVAE on the training images (cedm cluster --method treevae), its tree and time; NMI/ACC against the labels
#      beside k-means on pixels at the same K;
#   2. N TreeVAE samples (one image per root draw, leaf from pi) and N Diffuse-TreeVAE samples (an EDM conditioned on
#      the leaf decode and the leaf, trained MINUTES minutes), FD_fmnist against the test images and class purity per
#      leaf under the fmnist evaluator's classifier.
#
#   tools/experiments/treevae_fmnist.sh [out-dir]   (env: K=10 EPOCHS=20/10/0/10 N=1000 MINUTES=25 SEED=0)
set -euo pipefail
out=${1:-runs/treevae-fmnist}; k=${K:-10}; epochs=${EPOCHS:-20/10/0/10}; n=${N:-1000}; minutes=${MINUTES:-25}; seed=${SEED:-0}
root=$(cd "$(dirname "$0")/../.." && pwd)
# CEDM_DLL: a copy of the built CLI, so that rebuilding the checkout during a long run cannot swap it underneath.
dll=${CEDM_DLL:-$root/src/Cedm.Cli/bin/Release/net10.0/cedm.dll}
cedm() { dotnet "$dll" "$@"; }
[ -f "$dll" ] || dotnet build "$root/Cedm.slnx" -c Release --nologo -v q
mkdir -p "$out"
step() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [ ! -f "$out/tree/options.json" ]; then
  step "treevae K=$k epochs $epochs"
  /usr/bin/time -f "%e s wall, %U s user" -o "$out/tree.time" cedm cluster fashion-mnist --method treevae --k "$k" --tree-epochs "$epochs" --seed "$seed" --out "$out/tree" --force
fi
[ -f "$out/tree.score.json" ] || cedm score "$out/tree" fashion-mnist --json > "$out/tree.score.json"
[ -f "$out/pixels.npy" ] || cedm features fashion-mnist --extractor pixels --out "$out/pixels.npy" > /dev/null
[ -f "$out/kmeans/options.json" ] || cedm cluster "$out/pixels.npy" --method kmeans --k "$(/usr/bin/python3 -c "import json; print(json.load(open('$out/tree/clusters.json'))['k'])")" --seed "$seed" --out "$out/kmeans" --force > /dev/null
[ -f "$out/kmeans.score.json" ] || cedm score "$out/kmeans" fashion-mnist --json > "$out/kmeans.score.json"

[ -f "$out/leaves.png" ] || cedm treevae sample "$out/tree" --n 8 --out "$out/leaves.npy" --grid "$out/leaves.png" --force > /dev/null
[ -f "$out/recon.png" ] || cedm treevae recon "$out/tree" fashion-mnist:test --n 8 --out "$out/recon.npy" --grid "$out/recon.png" --force > /dev/null
if [ ! -f "$out/treevae-samples.metrics.json" ]; then
  step "TreeVAE samples"
  cedm treevae sample "$out/tree" --leaf p --n "$n" --seed "$seed" --out "$out/treevae-samples.npy" --force > /dev/null
  cedm eval fashion-mnist:test "$out/treevae-samples.npy" --sample-clusters "$out/treevae-samples_clusters.npy" --out "$out/treevae-samples.metrics.json" --force > /dev/null
fi

if [ ! -f "$out/refine/checkpoint.json" ] || [ ! -f "$out/refine.done" ]; then
  step "Diffuse-TreeVAE training, $minutes min"
  if [ -f "$out/refine/config.json" ]; then cedm train fashion-mnist --resume --out "$out/refine" --minutes "$minutes"
  else cedm train fashion-mnist --cond "treevae:$out/tree" --out "$out/refine" --minutes "$minutes" --seed "$seed"; fi
  touch "$out/refine.done"
fi
if [ ! -f "$out/refined-samples.metrics.json" ]; then
  step "Diffuse-TreeVAE samples"
  cedm sample "$out/refine" --n "$n" --seed "$seed" --out "$out/refined-samples.npy" --grid "$out/refined-samples.png" --force > /dev/null
  cedm eval fashion-mnist:test "$out/refined-samples.npy" --sample-clusters "$out/refined-samples_clusters.npy" --out "$out/refined-samples.metrics.json" --force > /dev/null
fi
[ -f "$out/refined-leaves.png" ] || cedm sample "$out/refine" --n 8 --cluster all --seed "$seed" --out "$out/refined-leaves.npy" --grid "$out/refined-leaves.png" --force > /dev/null

/usr/bin/python3 - "$out" <<'PY'
import json, sys
o = sys.argv[1]
j = lambda p: json.load(open(f"{o}/{p}"))
c = j("tree/clusters.json"); opts = c["options"]
print(f"tree: {c['k']} leaves, depth {opts['depth']}, sizes {c['sizes']}; time {open(o + '/tree.time').read().strip()}")
for name in ("tree", "kmeans"):
    s = j(f"{name}.score.json"); print(f"{name}: NMI {s['nmi']:.3f} ACC {s['acc']:.3f} ARI {s['ari']:.3f}")
for name in ("treevae-samples", "refined-samples"):
    m = j(f"{name}.metrics.json"); p = m.get("class_purity", {})
    print(f"{name}: FD_fmnist {m['fd']:.2f} precision {m['precision']:.3f} recall {m['recall']:.3f} class purity {p.get('mean')}")
PY
