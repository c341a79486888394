#!/usr/bin/env bash
# Builds libquant and runs every test:
#   1. the Release build and its whole ctest suite (unit, ONNX conformance, real models,
#      C ABI, CLI, installed package, examples);
#   2. AddressSanitizer + UndefinedBehaviorSanitizer (build-asan), LQ_TEST_ASAN:
#        unit   (default) the unit tests, as CI always ran them;
#        subset the labels unit, capi, cli, conformance and report (no real models, corpus,
#               examples or package: the slow ones, and those that load the library from other
#               languages' runtimes, which an ASan library cannot serve);
#        all    every test that can run against an ASan library (all but examples, package,
#               and the Valgrind one: Valgrind cannot run an ASan binary);
#        off;
#   3. ThreadSanitizer (build-tsan, LQ_TEST_TSAN=1; default 0): the unit tests of the thread
#      pool, the simulators, the optimized kernels, calibration, determinism and the Pipeline;
#   4. every libFuzzer target (build-fuzz, clang-14) for LQ_FUZZ_SECONDS each (default 20;
#      0 skips it) from its seed corpus (scripts/fuzz.sh); a crash fails the run.
# Measured on the 2-core development machine while five other engineers built (load 7-9),
# so every figure is inflated:
#   - Release suite: 331 tests, 19 min 17 s wall (models 888 s, corpus 394 s, examples 264 s,
#     unit 151 s, capi 120 s of test time); CI's whole run was 15-16 min on main;
#   - fuzz step: 9 targets x 20 s = 196 s wall after the clang build (which took ~25 min
#     here from cold; kernels are built -O0 uninstrumented there); onnx_fold (not in the default
#     list until a longer run of it comes back clean; its hang is fixed) would add 20 s:
#     ~ 220 s for 10 targets;
#   - the ThreadPool alone under TSan is a unit ctest (tsan_thread_pool, < 1 s, built with
#     the Release build); the TSan build below covers the simulators and calibration too;
#   - ASan "subset"/"all" and TSan were NOT measured (their cold builds did not finish in
#     the time left); they stay opt-in until a CI run times them. CI's 60 min budget fits
#     Release + ASan unit + fuzz 20 s with room for ASan "subset".
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in different folders.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
./scripts/install-deps.sh
jobs=$(nproc)
asan=${LQ_TEST_ASAN:-unit}
tsan=${LQ_TEST_TSAN:-0}
fuzz_seconds=${LQ_FUZZ_SECONDS:-20}
step() { echo; echo "==== $* ($(date -u +%H:%M:%S))"; }

step "Release build and the whole suite"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "$asan" != off ]; then
  step "AddressSanitizer + UndefinedBehaviorSanitizer ($asan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLQ_SANITIZE=ON \
    -DLQ_BUILD_BENCH=OFF -DLQ_BUILD_EXAMPLES=OFF >/dev/null
  if [ "$asan" = unit ]; then
    cmake --build build-asan -j "$jobs" --target lq_unit_tests
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L unit
  elif [ "$asan" = subset ]; then
    cmake --build build-asan -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1 LQ_CAPI_UNDER_MEMORY_CHECKER=1 \
      ctest --test-dir build-asan --output-on-failure -j "$jobs" -L 'unit|capi|cli|conformance|report' -E 'valgrind'
  else
    cmake --build build-asan -j "$jobs"
    # The C ABI tests report leaks and invalid accesses themselves under ASan.
    ASAN_OPTIONS=detect_leaks=1 LQ_CAPI_UNDER_MEMORY_CHECKER=1 \
      ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE 'examples|package' -E 'valgrind'
  fi
fi

if [ "$tsan" != 0 ]; then
  step "ThreadSanitizer: thread pool, simulators, optimized kernels, calibration, determinism"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLQ_SANITIZE_THREAD=ON \
    -DLQ_BUILD_BENCH=OFF -DLQ_BUILD_EXAMPLES=OFF -DLQ_BUILD_TOOLS=OFF >/dev/null
  cmake --build build-tsan -j "$jobs" --target lq_unit_tests
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/lq_unit_tests \
    "[threads],[simulator],[optimized],[calibration],[shards],[runtime],[determinism],[pipeline]"
fi

if [ "$fuzz_seconds" != 0 ]; then
  step "libFuzzer: every target for $fuzz_seconds s"
  ./scripts/fuzz.sh --seconds "$fuzz_seconds"
fi
step "done"
