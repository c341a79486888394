#!/usr/bin/env bash
# The README's main job: examples/cpp/classify_direction through the C++ Pipeline (float,
# then calibrate, quantize, compile, and the fixed-point program read back from model.lqm).
# Checks both pictures' directions from float and from the program, that the program was
# written, and that its accuracy on the bundled evaluation pictures is within 5 points of
# float's, and that it ends by writing the precision report. Exits 77 (ctest's skip) when the models cannot be fetched.
#
#   run_cpp_example.sh PROGRAM SOURCE_DIR WORK_DIR
set -euo pipefail
program=$1
source_dir=$(cd "$2" && pwd)
work=$3
mkdir -p "$work"
status=0
models=$(bash "$source_dir/scripts/fetch-models.sh" --key-value) || status=$?
[ "$status" -eq 0 ] || exit "$status"
cls=$(sed -n 's/^cls=//p' <<<"$models")
data=$source_dir/examples/data
out=$("$program" "$cls" --calib "$data/calib/cls" --eval "$data/eval/cls" --out "$work/out" \
  "$data/text_line.png" "$data/text_line_rotated.png")
echo "$out"
expect() {
  grep -Eq "$1" <<<"$out" || { echo "FAIL: no line matches: $1" >&2; exit 1; }
}
expect '^.*/text_line\.png: 0 degrees \(p=[0-9.]+, float\)$'
expect '^.*/text_line_rotated\.png: 180 degrees \(p=[0-9.]+, float\)$'
expect '^.*/text_line\.png: 0 degrees \(p=[0-9.]+, int8 fixed-point program'
expect '^.*/text_line_rotated\.png: 180 degrees \(p=[0-9.]+, int8 fixed-point program'
[ -s "$work/out/model.lqm" ] || { echo "FAIL: $work/out/model.lqm was not written" >&2; exit 1; }
expect "^precision report: $work/out/analysis/report\.html\$"
[ -s "$work/out/analysis/report.html" ] && [ -s "$work/out/analysis/report.json" ] ||
  { echo "FAIL: the precision report was not written into $work/out/analysis" >&2; exit 1; }
line=$(grep '^accuracy on ' <<<"$out")
float=$(sed -E 's/.*float ([0-9.]+) %.*/\1/' <<<"$line")
fixed=$(sed -E 's/.*program ([0-9.]+) %;.*/\1/' <<<"$line")
awk -v f="$float" -v q="$fixed" 'BEGIN { exit !(q >= f - 5) }' ||
  { echo "FAIL: int8 program accuracy $fixed % is more than 5 points below float $float %" >&2; exit 1; }
echo "ok: float $float %, int8 fixed-point program $fixed %"
