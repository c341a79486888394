#!/usr/bin/env bash
# The main job on the bundled example: the PP-OCR direction classifier run by libquant's
# float Simulator on two bundled text-line pictures (upright and turned 180 degrees), then
# calibrated on the bundled calibration pictures, quantized to int8 and compared with float.
set -euo pipefail
cd "$(dirname "$0")/.."
models=$(./scripts/fetch-models.sh)
cls=$(echo "$models" | grep cls)
./build/examples/classify_direction "$cls" --calib examples/data/calib/cls \
  examples/data/text_line.png examples/data/text_line_rotated.png
