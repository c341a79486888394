#!/usr/bin/env bash
# Builds libquant and runs every test: the Release build (unit, ONNX conformance, real models,
# C ABI, installed package), then the unit tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in different folders.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
./scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLQ_SANITIZE=ON \
  -DLQ_BUILD_BENCH=OFF -DLQ_BUILD_EXAMPLES=OFF -DLQ_BUILD_TOOLS=OFF >/dev/null
cmake --build build-asan -j "$jobs" --target lq_unit_tests
ctest --test-dir build-asan --output-on-failure -j "$jobs" -L unit
