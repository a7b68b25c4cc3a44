#!/usr/bin/env bash
# Runs the whole cedm test suite (installs the Debian packages it needs first, restores NuGet packages).
set -euo pipefail
cd "$(dirname "$0")"
bash tools/install-deps.sh
dotnet test Cedm.slnx -c Release --nologo -v q "$@"
