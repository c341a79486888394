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
# The quantized rows hold their figures: agreement with float >= 95 % and output SNR at most
# 6 dB under what was measured on 2026-12-07 (--quick, cls: row|minimum|measured). The margin
# leaves room for changed defaults and calibration subsets, not for a broken path.
while IFS='|' read -r row min_snr measured; do
  line=$(grep "^$row *|" <<<"$out" | head -n 1)
  [ -n "$line" ] || continue  # a missing row is reported above
  vs_float=$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<<"$line")
  snr=$(awk -F'|' '{gsub(/ /, "", $4); print $4}' <<<"$line")
  if ! awk -v f="$vs_float" -v s="$snr" -v m="$min_snr" 'BEGIN { exit !(f >= 95 && (s == "inf" || s >= m)) }'; then
    echo "FAIL: \"$row\": ${vs_float}% agreement with float (want >= 95) and ${snr} dB SNR (want >= $min_snr; measured $measured)"
    fail=1
  fi
done <<'EOF_ROWS'
int8 max|32|38.0
int8 percentile|37.8|43.8
int8 kl|16.1|22.1
int8 mse|27.6|33.6
int8 mmse|26.5|32.5
int8 auto|26.6|32.6
int16 max|28|34.0
int16 mse|28|34.0
program int8 percentile|36.7|42.7
program int16 max|28|34.0
EOF_ROWS
for line in "^ORT on our QDQ export of int8 .*cosine" "^best int8 method for cls: "; do
  if ! grep -q "$line" <<<"$out"; then
    echo "FAIL: no line matching \"$line\""
    fail=1
  fi
done
if [ "$fail" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit "$fail"
