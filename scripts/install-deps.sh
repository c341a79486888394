#!/usr/bin/env bash
# Installs libquant's build and test dependencies from Debian 12 packages.
# Skips apt entirely when everything is already installed.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libonnx-dev libprotobuf-dev protobuf-compiler
  xtensor-dev libxsimd-dev libfmt-dev nlohmann-json3-dev catch2 libstb-dev libyaml-cpp-dev
  python3-onnx python3-numpy python3-pil fonts-dejavu-core
  chromium  # the HTML precision report, opened headless (tests/analysis, label "report")
  espeak-ng  # speech for the model corpus (scripts/make-corpus-data.py)
  rustc cargo golang-go  # the Rust and Go examples (tests/examples)
  liblmdb-dev python3-lmdb  # LMDB calibration sets (python3-lmdb writes the tests' sets)
  python3-distributed  # examples/python/dask_calibrate.py (sharded calibration on a dask cluster)
  clang-14 libfuzzer-14-dev  # the fuzz targets (tests/fuzz, scripts/fuzz.sh)
)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
