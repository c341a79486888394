#!/usr/bin/env bash
# The main job on the bundled example, with the PP-OCR direction classifier: the float
# Simulator classifies two bundled text-line pictures (upright and turned 180 degrees); the
# Pipeline calibrates on the bundled calibration pictures, quantizes to int8, compiles the
# integer program (build/example/model.lqm) and measures it; the fixed-point Simulator runs
# that program on the two pictures and on the bundled evaluation pictures, and the
# accuracy of float and of the int8 program is printed; last, the precision report
# (build/example/analysis/report.html) says where int8 lost accuracy, layer by layer.
set -euo pipefail
cd "$(dirname "$0")/.."
models=$(./scripts/fetch-models.sh)
cls=$(echo "$models" | grep cls)
./build/examples/classify_direction "$cls" --calib examples/data/calib/cls \
  --eval examples/data/eval/cls --out build/example \
  examples/data/text_line.png examples/data/text_line_rotated.png
