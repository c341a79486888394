#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with ASan and UBSan) in build-fuzz/ and
# runs each in turn from its seed corpus, one at a time.
#   scripts/fuzz.sh [--seconds N | --runs N] [--jobs N] [TARGET...]
# Defaults: 10 seconds per target, every target. New interesting inputs go to
# build-fuzz/fuzz-found/<target>/ (the seed corpus in tests/fuzz/corpus stays as is); a
# crash leaves crash-*/oom-*/timeout-* in build-fuzz/fuzz-artifacts/<target>/: minimize it,
# fix the bug, and add it to tests/fuzz/corpus/<target>/ as regress-<what>.
# Prints each target's executions; exits nonzero when a target found a crash.
set -uo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time=10)
jobs=2
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) limit=(-max_total_time="$2"); shift 2 ;;
    --runs) limit=(-runs="$2"); shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=(onnx lqm lqm_payload npy quant_config pipeline_config calibration_stats image capi)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
build=build-fuzz
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if [ ! -f $build/CMakeCache.txt ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=Fuzz \
    -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_FUZZ="-O1 -gline-tables-only" \
    -DLQ_BUILD_FUZZERS=ON -DLQ_BUILD_TESTS=OFF -DLQ_BUILD_TOOLS=OFF -DLQ_BUILD_EXAMPLES=OFF \
    -DLQ_BUILD_BENCH=OFF >/dev/null || exit 1
fi
nice cmake --build $build -j"$jobs" --target "${targets[@]/#/fuzz_}" || exit 1
status=0
printf '%-20s %14s  %s\n' target executions result
for t in "${targets[@]}"; do
  found=$build/fuzz-found/$t artifacts=$build/fuzz-artifacts/$t
  mkdir -p "$found" "$artifacts"
  log=$build/fuzz-$t.log
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 nice -n 19 "$build/tests/fuzz/fuzz_$t" \
    "${limit[@]}" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$found" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
  result=ok
  if [ $rc -ne 0 ]; then result="FAILED (exit $rc): see $log and $artifacts"; status=1; fi
  printf '%-20s %14s  %s\n' "$t" "${runs:-?}" "$result"
done
exit $status
