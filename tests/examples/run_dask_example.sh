#!/usr/bin/env bash
# examples/python/dask_calibrate.py on a LocalCluster of 2 worker processes: 4 calibration
# shards of the PP-OCR direction classifier, merged and quantized through the Python binding,
# give the same quant_params.json and model.lqm bytes as one `lquant quantize` over all the
# pictures.
#
#   run_dask_example.sh SOURCE_DIR LIB_DIR LQUANT PYTHON WORK_DIR   (77: no models)
set -euo pipefail
source_dir=$(cd "$1" && pwd)
lib_dir=$2
lquant=$3
python=$4
work=$5
rm -rf "$work"
mkdir -p "$work"

status=0
models=$(bash "$source_dir/scripts/fetch-models.sh" --key-value) || status=$?
[ "$status" -eq 0 ] || exit "$status"
cls=$(sed -n 's/^cls=//p' <<<"$models")
calib=$source_dir/examples/data/calib/cls
pictures=(--images --image-size 48x192 --resize fit-height-pad --color bgr --mean 127.5 --scale 0.0078431)

"$lquant" quantize "$cls" --calib x="$calib" "${pictures[@]}" --out "$work/one" >"$work/one.log" 2>&1 ||
  { cat "$work/one.log"; exit 1; }
export LIBQUANT_LIBRARY=$lib_dir/libquant.so PYTHONPYCACHEPREFIX=$work/pycache
# dask keeps its scratch space under the working directory.
(cd "$work" && "$python" "$source_dir/examples/python/dask_calibrate.py" "$cls" --calib x="$calib" \
  "${pictures[@]}" --workers 2 --shards 4 --out "$work/dask") >"$work/dask.log" 2>&1 ||
  { cat "$work/dask.log"; exit 1; }
cat "$work/dask.log" | grep -E "^(calibrated|wrote)"
grep -q "calibrated on 16 samples in 4 shards" "$work/dask.log"
for f in quant_params.json model.lqm; do
  cmp "$work/one/$f" "$work/dask/$f" || { echo "FAIL: $f of the dask run differs from one process"; exit 1; }
done
echo "ok: 4 shards on 2 dask workers give the one-process quant_params.json and model.lqm"
