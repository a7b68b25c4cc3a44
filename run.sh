#!/usr/bin/env bash
# The main job on the embedded default dataset (Fashion-MNIST from Debian), installing what it needs first:
# features -> upper cluster bound -> clusters -> cluster-conditioned EDM training -> samples -> metrics ->
# runs/fashion-mnist/report.html. Running it again resumes where it stopped. Extra arguments go to `cedm run`
# (e.g. ./run.sh --quick, or ./run.sh --minutes 30 --out runs/longer).
set -euo pipefail
cd "$(dirname "$0")"
bash tools/install-deps.sh
out=runs/fashion-mnist
for arg in "$@"; do [ "$arg" = "--out" ] && out=""; done
if [ -n "$out" ]; then set -- --out "$out" "$@"; fi
./cedm selfcheck
./cedm run fashion-mnist "$@"
