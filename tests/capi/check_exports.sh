#!/usr/bin/env bash
# Usage: check_exports.sh LIBQUANT_SO LIBQUANT_H
# The shared library's unmangled (extern "C") defined symbols all start with lq_, besides the
# ELF bookkeeping ones, and every function libquant.h declares is among them.
set -euo pipefail
lib=$1
header=$2
symbols=$(nm -D --defined-only "$lib" | awk '{print $NF}')
unmangled=$(echo "$symbols" | grep -v '^_Z' || true)
foreign=$(echo "$unmangled" | grep -v -E '^(lq_[A-Za-z0-9_]+|_init|_fini|_edata|_end|__bss_start)$' || true)
status=0
if [ -n "$foreign" ]; then
  echo "$lib exports extern \"C\" symbols without the lq_ prefix:"
  echo "$foreign" | head -20
  status=1
fi
declared=$(grep -o -E '^LQ_C_API [^(]*\blq_[a-z0-9_]+\(' "$header" | grep -o -E 'lq_[a-z0-9_]+\($' | tr -d '(' | sort -u)
if [ -z "$declared" ]; then
  echo "found no LQ_C_API function in $header"
  exit 1
fi
missing=$(comm -23 <(echo "$declared") <(echo "$unmangled" | sort -u))
if [ -n "$missing" ]; then
  echo "functions of $header that $lib does not export:"
  echo "$missing"
  status=1
fi
if [ $status -eq 0 ]; then
  echo "$(echo "$declared" | wc -l) C functions exported; every extern \"C\" symbol starts with lq_"
fi
exit $status
