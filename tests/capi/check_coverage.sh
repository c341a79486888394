#!/usr/bin/env bash
# Usage: check_coverage.sh LIBQUANT_H TEST_C...
# Every function libquant.h declares (exported or inline) is called by the C tests.
set -euo pipefail
header=$1
shift
test_files=("$@")
functions=$(grep -o -E '^(LQ_C_API|static inline) [^(]*\blq_[a-z0-9_]+\(' "$header" \
  | grep -o -E 'lq_[a-z0-9_]+\($' | tr -d '(' | sort -u)
uncalled=""
for f in $functions; do
  grep -q -E "\\b$f\\(" "${test_files[@]}" || uncalled="$uncalled $f"
done
if [ -n "$uncalled" ]; then
  echo "functions of $header that the tests (${test_files[*]##*/}) never call:$uncalled"
  exit 1
fi
echo "$(echo "$functions" | wc -l) functions of libquant.h, all called by the tests"
