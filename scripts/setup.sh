#!/usr/bin/env bash
# Sets libquant up on a fresh Debian 12 machine: Debian packages, the PP-OCR models and the
# ONNX Runtime peer (npm, cached outside the tree), and a Release build in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in different folders.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
./scripts/install-deps.sh
./scripts/fetch-models.sh >/dev/null || echo "setup: models not fetched; examples and model tests will skip"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
