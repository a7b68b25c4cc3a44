#!/usr/bin/env bash
# The fuzz harness (tools/fuzz/README.md): builds it and runs every target; extra arguments go to the harness.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
dotnet build "$here/Cedm.Fuzz.csproj" -c Release -o "$here/../../.cache/fuzz" --nologo -v q > /dev/null
exec dotnet "$here/../../.cache/fuzz/Cedm.Fuzz.dll" "$@"
