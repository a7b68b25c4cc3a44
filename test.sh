#!/usr/bin/env bash
# Runs the whole cedm test suite. Installs the Debian packages it needs first (OpenBLAS, the Fashion-MNIST
# dataset, Chromium for the report checks) and restores NuGet packages; then runs every test once, and the engine's kernel tests a second time
# with AVX-512 and AVX2 disabled so the SIMD fallback paths are exercised too (style notes §5.10).
set -euo pipefail
cd "$(dirname "$0")"
bash tools/install-deps.sh --tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Cedm.slnx -c Release --nologo -v q "$@" 2>&1 | tee -a "$log" || status=1
DOTNET_EnableAVX512F=0 DOTNET_EnableAVX2=0 \
  dotnet test tests/Cedm.Tests -c Release --no-build --nologo -v q --filter "FullyQualifiedName~Cedm.Tests.Tensors" 2>&1 | tee -a "$log" || status=1
# One closing summary line over both runs, in the plain "N passed, N failed" form.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: $passed passed, $failed failed"
[ "$passed" -gt 0 ] || status=1
exit $status
