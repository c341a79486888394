#!/usr/bin/env bash
# Smoke test of bench/accuracy on the direction classifier (--quick): the evaluation data is
# made, every config gets a row, the float model reads the rendered pictures right (so the
# pictures, the preprocessing and the decoding agree), and ONNX Runtime's run of our QDQ
# export agrees with our fake quantization (lq_accuracy exits 1 otherwise).
# usage: test_accuracy_smoke.sh LQ_ACCURACY_EXECUTABLE
set -uo pipefail

accuracy=${1:?usage: test_accuracy_smoke.sh LQ_ACCURACY_EXECUTABLE}
out=$("$accuracy" --models cls --quick 2>&1)
status=$?
echo "$out"
if [ "$status" -eq 77 ]; then exit 77; fi
if [ "$status" -ne 0 ]; then
  echo "FAIL: lq_accuracy exited with $status"
  exit 1
fi

fail=0
for row in "float" "int8 max" "int8 percentile" "int8 kl" "int8 mse" "int8 mmse" "int8 auto" \
  "int16 max" "int16 mse" "uint8 min/max (ORT)"; do
  if ! grep -q "^$row *|" <<<"$out"; then
    echo "FAIL: no table row \"$row\""
    fail=1
  fi
done
float_accuracy=$(sed -n 's/^float *| *\([0-9.]*\) *|.*/\1/p' <<<"$out")
if ! awk -v a="$float_accuracy" 'BEGIN { exit !(a >= 90) }'; then
  echo "FAIL: the float classifier got ${float_accuracy:-no}% of the rendered directions right, expected >= 90%"
  fail=1
fi
for line in "^ORT on our QDQ export of int8 .*cosine" "^best int8 method for cls: "; do
  if ! grep -q "$line" <<<"$out"; then
    echo "FAIL: no line matching \"$line\""
    fail=1
  fi
done
if [ "$fail" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit "$fail"
