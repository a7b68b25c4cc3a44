#!/usr/bin/env bash
# The main job on the embedded default dataset (Fashion-MNIST from Debian), installing what it needs first.
# Today (engine milestone) it reports the engine and runs its self-check; the later pipeline issues
# (data -> features -> clusters -> conditional EDM -> samples -> report) extend it to `cedm run`.
set -euo pipefail
cd "$(dirname "$0")"
bash tools/install-deps.sh
./cedm --help
./cedm selfcheck "$@"
