#!/usr/bin/env bash
# FD against network evaluations for EDM's Heun sampler and DPM-Solver++(2M) on one trained run (issue 17:
# "samples per second at equal quality"). Every configuration samples the same seeds (0 .. n-1), so differences
# between rows are the solver's, not the draw's (SEED=S starts the seeds at S instead of 0). Resumable: a
# configuration whose metrics exist is skipped.
#
#   tools/experiments/solver_sweep.sh <run-dir> <real-source> [n-samples] [out-dir]
#   e.g. tools/experiments/solver_sweep.sh runs/fashion-mnist/train fashion-mnist:test 2000
#
# Prints and appends to <out-dir>/table.tsv: solver, steps, network evaluations, sampling seconds, FD.
set -euo pipefail
run=${1:?run folder}; real=${2:?real source}; n=${3:-2000}; out=${4:-$run/solver-sweep}
root=$(cd "$(dirname "$0")/../.." && pwd)
cedm() { dotnet "$root/src/Cedm.Cli/bin/Release/net10.0/cedm.dll" "$@"; }
[ -f "$root/src/Cedm.Cli/bin/Release/net10.0/cedm.dll" ] || dotnet build "$root/Cedm.slnx" -c Release --nologo -v q
mkdir -p "$out"
[ -f "$out/table.tsv" ] || printf 'solver\tsteps\tnfe\tsample_s\tfd\n' > "$out/table.tsv"
for spec in ${CONFIGS:-heun:18 heun:12 heun:8 heun:5 dpm2m:35 dpm2m:25 dpm2m:18 dpm2m:15 dpm2m:12 dpm2m:10 dpm2m:8}; do
  solver=${spec%:*}; steps=${spec#*:}
  s="$out/$solver-$steps"
  [ -f "$s.metrics.json" ] && continue
  if [ ! -f "$s.seconds" ]; then
    t0=$(date +%s.%N)
    cedm sample "$run" --n "$n" --seed "${SEED:-0}" --solver "$solver" --steps "$steps" --out "$s.npy" --force > /dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc > "$s.seconds"
  fi
  cedm eval "$real" "$s.npy" --out "$s.partial.json" --force > /dev/null
  mv "$s.partial.json" "$s.metrics.json"
  nfe=$([ "$solver" = heun ] && echo $((2 * steps - 1)) || echo "$steps")
  fd=$(/usr/bin/python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['fd'], 3))" "$s.metrics.json")
  line=$(printf '%s\t%s\t%s\t%.1f\t%s' "$solver" "$steps" "$nfe" "$(cat "$s.seconds")" "$fd")
  echo "$line" | tee -a "$out/table.tsv"
done
