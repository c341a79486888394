#!/usr/bin/env bash
# Calibration beyond one process: the PP-OCR direction classifier calibrated in 3 shards
# (lquant calibrate --shard I/3), merged (lquant merge-stats) and quantized from the merged
# statistics (lquant quantize --stats) gives the same quant_params.json and model.lqm bytes
# as one `lquant quantize` over all the pictures; the same with the shards' files passed to
# quantize directly. Then every misuse: a clear message and the documented exit code.
#
#   test_lquant_shards.sh LQUANT SOURCE_DIR     (exits 77, ctest's skip, without the models)
set -uo pipefail
lquant=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/check.sh"
same() {  # same NAME DIR_A DIR_B: quant_params.json and model.lqm byte for byte
  if cmp "$2/quant_params.json" "$3/quant_params.json" && cmp "$2/model.lqm" "$3/model.lqm"; then
    echo "ok   $1"
  else
    echo "FAIL $1: $2 and $3 differ"; failures=$((failures + 1))
  fi
}

status=0
models=$(bash "$source_dir/scripts/fetch-models.sh" --key-value) || status=$?
[ "$status" -eq 0 ] || exit "$status"
cls=$(sed -n 's/^cls=//p' <<<"$models")
calib=$source_dir/examples/data/calib/cls
pictures=(--images --image-size 48x192 --resize fit-height-pad --color bgr --mean 127.5 --scale 0.0078431)

check "one process" 0 "calibrated on 16 samples" -- "$lquant" quantize "$cls" --calib x="$calib" "${pictures[@]}" --out "$work/one"
for i in 0 1 2; do
  check "calibrate shard $i/3" 0 "wrote $work/s$i.json" -- \
    "$lquant" calibrate "$cls" --calib x="$calib" "${pictures[@]}" --shard "$i/3" --stats-out "$work/s$i.json"
done
check "merge-stats, any order" 0 "merged 3 files (16 samples)" -- "$lquant" merge-stats "$work/s2.json" "$work/s0.json" "$work/s1.json" --out "$work/all.json"
check "quantize --stats merged" 0 "calibrated on 16 samples" -- "$lquant" quantize "$cls" --stats "$work/all.json" --out "$work/merged"
same "merged statistics give the one-process model" "$work/one" "$work/merged"
check "quantize --stats per shard" 0 "calibrated on 16 samples" -- \
  "$lquant" quantize "$cls" --stats "$work/s1.json" --stats "$work/s0.json" --stats "$work/s2.json" --out "$work/shards"
same "shard files give the one-process model" "$work/one" "$work/shards"

# A pipe gets plain progress lines, never a carriage return.
"$lquant" calibrate "$cls" --calib x="$calib" "${pictures[@]}" --stats-out "$work/piped.json" 2>"$work/progress.txt" >/dev/null
if grep -q $'\r' "$work/progress.txt" || ! grep -qE '^calibrating: 16/16' "$work/progress.txt"; then
  echo "FAIL progress in a pipe:"; cat -A "$work/progress.txt" | sed 's/^/    /'; failures=$((failures + 1))
else
  echo "ok   progress in a pipe is plain lines"
fi

# On a terminal (script(1) gives it one): a bar redrawn in place, ending with the count and "done".
if command -v script >/dev/null 2>&1; then
  script -qec "\"$lquant\" calibrate \"$cls\" --calib x=\"$calib\" ${pictures[*]} --stats-out \"$work/tty.json\"" \
    "$work/tty.txt" >/dev/null 2>&1
  if grep -q $'\rcalibrating \\[#*' "$work/tty.txt" && grep -qE 'calibrating \[#{30}\] 16/16  [0-9.]+ s, done' "$work/tty.txt"; then
    echo "ok   progress on a terminal is a bar"
  else
    echo "FAIL progress on a terminal:"; cat -A "$work/tty.txt" | sed 's/^/    /'; failures=$((failures + 1))
  fi
fi

# The searches and the compile report progress too: plain lines with counts and times.
"$lquant" quantize "$cls" --calib x="$calib" "${pictures[@]}" --method auto --int16-budget 0.1 \
  --analyze --out "$work/auto" 2>"$work/steps.txt" >/dev/null
for step in "auto ranges" "auto search" "mixed precision" "compile" "analysis"; do
  if grep -q $'\r' "$work/steps.txt" || ! grep -qE "^$step: ([0-9]+)/\1, [0-9.]+ s, done\$" "$work/steps.txt" ||
     ! grep -qE "^$step: [0-9]+/[0-9]+, [0-9.]+ s, about [0-9.]+ s left\$" "$work/steps.txt"; then
    echo "FAIL progress of $step in a pipe:"; cat -A "$work/steps.txt" | sed 's/^/    /'; failures=$((failures + 1))
  else
    echo "ok   progress of $step in a pipe is plain lines"
  fi
done

# Statistics of another model: a one-node model written here.
/usr/bin/python3 - "$work" <<'PY'
import sys, os, numpy as np, onnx
from onnx import helper, TensorProto
d = sys.argv[1]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="act")], "g", [x], [y])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/other.onnx")
os.makedirs(f"{d}/other_calib")
rng = np.random.default_rng(3)
for i in range(6):
    np.save(f"{d}/other_calib/{i}.npy", rng.normal(0, i + 1, (1, 3)).astype(np.float32))
# The same samples as an LMDB calibration set: key = file name, value = the .npy bytes.
import lmdb
for name, damaged in (("other.lmdb", None), ("damaged.lmdb", "3.npy")):
    env = lmdb.open(f"{d}/{name}", subdir=False, map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in range(6):
            with open(f"{d}/other_calib/{i}.npy", "rb") as f:
                txn.put(f"{i}.npy".encode(), b"junk" if damaged == f"{i}.npy" else f.read())
    env.close()
PY
"$lquant" calibrate "$work/other.onnx" --calib x="$work/other_calib" --stats-out "$work/other.json" >/dev/null 2>&1
printf '{"format": "libquant-calibration-statistics", "version": 99}' >"$work/future.json"
head -c 200 "$work/s0.json" >"$work/truncated.json"

check "quantize --calib npy folder" 0 "calibrated on 6 samples" -- "$lquant" quantize "$work/other.onnx" --calib x="$work/other_calib" --out "$work/other_npy"
check "quantize --calib LMDB" 0 "calibrated on 6 samples" -- "$lquant" quantize "$work/other.onnx" --calib x="$work/other.lmdb" --out "$work/other_lmdb"
same "LMDB set gives the npy folder's model" "$work/other_npy" "$work/other_lmdb"
check "calibrate --shard on LMDB" 0 "calibrated on 3 samples" -- "$lquant" calibrate "$work/other.onnx" --calib x="$work/other.lmdb" --shard 1/2 --stats-out "$work/lmdb1.json"
check "damaged LMDB record names its key" 1 "damaged.lmdb' key '3.npy'" -- "$lquant" quantize "$work/other.onnx" --calib x="$work/damaged.lmdb" --out "$work/bad"
check "merge-stats: another model" 1 "merging '$work/other.json' into '$work/s0.json'" -- \
  "$lquant" merge-stats "$work/s0.json" "$work/other.json" --out "$work/x.json"
check "merge-stats: another version" 1 "$work/future.json" -- "$lquant" merge-stats "$work/s0.json" "$work/future.json" --out "$work/x.json"
check "merge-stats: damaged file" 1 "$work/truncated.json" -- "$lquant" merge-stats "$work/truncated.json" "$work/s0.json" --out "$work/x.json"
check "merge-stats: missing file" 1 "$work/nope.json" -- "$lquant" merge-stats "$work/nope.json" --out "$work/x.json"
check "merge-stats: no --out" 2 "merge-stats needs --out FILE" -- "$lquant" merge-stats "$work/s0.json"
check "merge-stats: no files" 2 "needs the statistics FILEs" -- "$lquant" merge-stats --out "$work/x.json"
check "quantize --stats of another model" 1 "were gathered on another model" -- "$lquant" quantize "$cls" --stats "$work/other.json" --out "$work/bad"
check "quantize --stats and --calib" 2 "--stats replaces --calib" -- "$lquant" quantize "$cls" --stats "$work/all.json" --calib x="$calib" --out "$work/bad"
check "calibrate: no --stats-out" 2 "calibrate needs --stats-out FILE" -- "$lquant" calibrate "$cls" --calib x="$calib"
check "calibrate: no --calib" 2 "calibrate needs --calib" -- "$lquant" calibrate "$cls" --stats-out "$work/x.json"
check "calibrate: shard out of range" 2 "--shard" -- "$lquant" calibrate "$cls" --calib x="$calib" --shard 3/3 --stats-out "$work/x.json"
check "calibrate: shard not I/N" 2 "--shard" -- "$lquant" calibrate "$cls" --calib x="$calib" --shard two --stats-out "$work/x.json"
check "calibrate: --out" 2 "not --out" -- "$lquant" calibrate "$cls" --calib x="$calib" --out "$work/o" --stats-out "$work/x.json"
check "quantize: --shard" 2 "unknown option '--shard' for quantize" -- "$lquant" quantize "$cls" --calib x="$calib" --shard 0/2 --out "$work/o"
check "calibrate --help" 0 "--shard I/N" -- "$lquant" calibrate --help
check "merge-stats --help" 0 "usage: lquant merge-stats" -- "$lquant" merge-stats --help

[ "$failures" -eq 0 ] || { echo "$failures checks failed"; exit 1; }
