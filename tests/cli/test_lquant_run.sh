#!/usr/bin/env bash
# `lquant run` end to end: outputs written as .npy with the right values, and every kind
# of bad input answered by a clear message and the documented exit code, never a crash.
set -uo pipefail
lquant=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0
source "$(dirname "$0")/check.sh"

/usr/bin/python3 - "$work" <<'PY'
import sys, numpy as np, onnx
from onnx import helper, TensorProto
d = sys.argv[1]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
y = helper.make_tensor_value_info("out:0", TensorProto.FLOAT, ["N", 3])
w = helper.make_tensor("w", TensorProto.FLOAT, [3], [1.0, -2.0, 0.5])
graph = helper.make_graph([helper.make_node("Mul", ["x", "w"], ["m"], name="scale"),
                           helper.make_node("Relu", ["m"], ["out:0"], name="act")],
                          "g", [x], [y], [w])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/model.onnx")
unknown = helper.make_graph([helper.make_node("Reluu", ["x"], ["out:0"], name="typo")], "g", [x], [y])
onnx.save(helper.make_model(unknown, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/unknown.onnx")
# Two MatMuls around a Sigmoid: the activations between them are mixed-precision candidates.
deep = helper.make_graph([helper.make_node("MatMul", ["x", "w1"], ["m"], name="mm1"),
                          helper.make_node("Sigmoid", ["m"], ["s"], name="sig"),
                          helper.make_node("MatMul", ["s", "w2"], ["out:0"], name="mm2")],
                         "g", [x], [y],
                         [helper.make_tensor("w1", TensorProto.FLOAT, [3, 3], [1.5, -2, 0.5, 0.25, 1, -1, 2, 0.5, -0.75]),
                          helper.make_tensor("w2", TensorProto.FLOAT, [3, 3], [1, 0.5, -1, -0.5, 2, 0.25, 0.75, -1.5, 1])])
onnx.save(helper.make_model(deep, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/deep.onnx")
np.save(f"{d}/x.npy", np.array([[1, 2, 3], [-1, -2, -3]], dtype=np.float32))
np.save(f"{d}/x_bad_shape.npy", np.zeros((2, 4), dtype=np.float32))
np.save(f"{d}/x_int.npy", np.zeros((2, 3), dtype=np.int32))
import os
os.makedirs(f"{d}/calib", exist_ok=True)
rng = np.random.default_rng(1)
for i in range(4):
    np.save(f"{d}/calib/{i}.npy", rng.uniform(-2, 2, (2, 3)).astype(np.float32))
with open(f"{d}/job.yaml", "w") as f:
    f.write("model: {path: model.onnx}\ninput:\n  x: {calibration: calib}\n"
            "calibration: {method: mse}\noutput: {dir: built}\n")
# The range method skip without data: random inputs in a declared range.
with open(f"{d}/skip.yaml", "w") as f:
    f.write("model: {path: model.onnx}\ninput:\n  x: {shape: [2, 3], range: [0, 4]}\n"
            "calibration: {method: skip}\noutput: {dir: built_skip}\n")
with open(f"{d}/skip_nodata_max.yaml", "w") as f:
    f.write("model: {path: model.onnx}\ninput:\n  x: {shape: [2, 3]}\n"
            "calibration: {method: max}\noutput: {dir: built_max}\n")
with open(f"{d}/bad.json", "w") as f:
    f.write('{"model": {"path": "model.onnx"}, "output": {"dir": "o"}, "quantisation": {}}')
with open(f"{d}/model.onnx", "rb") as f:
    data = f.read()
with open(f"{d}/truncated.onnx", "wb") as f:
    f.write(data[: len(data) // 2])
PY

check "runs and writes outputs" 0 "out_0.npy" -- "$lquant" run "$work/model.onnx" --input x="$work/x.npy" --output-dir "$work/out" --threads 2 --repeat 3
/usr/bin/python3 -c "
import numpy as np, sys
y = np.load('$work/out/out_0.npy')
want = np.maximum(np.array([[1,2,3],[-1,-2,-3]], np.float32) * np.array([1,-2,0.5], np.float32), 0)
sys.exit(0 if y.dtype == np.float32 and np.array_equal(y, want) else 1)" \
  && echo "ok   output values" || { echo "FAIL output values"; failures=$((failures + 1)); }
check "input name optional for one input" 0 "run 1:" -- "$lquant" run "$work/model.onnx" --input "$work/x.npy" --output-dir "$work/out"
check "missing .npy" 1 "cannot open .npy file '$work/nope.npy'" -- "$lquant" run "$work/model.onnx" --input x="$work/nope.npy" --output-dir "$work/out"
check "missing input" 1 "input \"x\" (float32[N,3]) was not given" -- "$lquant" run "$work/model.onnx" --output-dir "$work/out"
check "wrong shape" 1 "got shape [2,4], the model expects float32[N,3]" -- "$lquant" run "$work/model.onnx" --input x="$work/x_bad_shape.npy" --output-dir "$work/out"
check "wrong dtype" 1 "got dtype int32, the model expects float32" -- "$lquant" run "$work/model.onnx" --input x="$work/x_int.npy" --output-dir "$work/out"
check "unknown input name" 1 "\"y\" is not an input of the model" -- "$lquant" run "$work/model.onnx" --input x="$work/x.npy" --input y="$work/x.npy" --output-dir "$work/out"
check "unknown op" 1 "nearest supported op is Relu" -- "$lquant" run "$work/unknown.onnx" --input x="$work/x.npy" --output-dir "$work/out"
check "truncated model" 1 "not a valid ONNX model" -- "$lquant" run "$work/truncated.onnx" --input x="$work/x.npy" --output-dir "$work/out"
check "missing model" 1 "cannot open model file" -- "$lquant" run "$work/none.onnx" --input x="$work/x.npy" --output-dir "$work/out"
check "bad threads" 2 "--threads needs a positive whole number" -- "$lquant" run "$work/model.onnx" --threads zero --output-dir "$work/out"
check "unknown option" 2 "unknown option '--fast'" -- "$lquant" run "$work/model.onnx" --fast
check "unknown verb" 2 "unknown verb 'walk'" -- "$lquant" walk
check "help" 0 "exit codes" -- "$lquant" --help
check "quantize" 0 "wrote $work/q/model.qdq.onnx" -- "$lquant" quantize "$work/model.onnx" --calib x="$work/calib" --out "$work/q" --method kl
test -s "$work/q/quant_params.json" && test -s "$work/q/model.float.onnx" || { echo "FAIL quantize artifacts"; failures=$((failures + 1)); }
test -s "$work/q/model.lqm" && test -s "$work/q/program.json" || { echo "FAIL quantize program artifacts"; failures=$((failures + 1)); }
check "run program" 0 "out:0 float32 [2,3]" -- "$lquant" run "$work/q/model.lqm" --input "$work/x.npy" --output-dir "$work/fixed"
check "run program raw, dump layers" 0 "dumped 1 tensors" -- "$lquant" run "$work/q/model.lqm" --input "$work/x.npy" --output-dir "$work/raw" --raw --dump-layers "$work/layers"
/usr/bin/python3 -c "
import numpy as np, sys, os
want = np.maximum(np.array([[1,2,3],[-1,-2,-3]], np.float32) * np.array([1,-2,0.5], np.float32), 0)
got = np.load('$work/fixed/out_0.npy')
raw = np.load('$work/raw/out_0.npy')
layers = sorted(os.listdir('$work/layers'))
# The program was quantized with kl, whose ranges clip (4 becomes 2.9): zeros stay zeros.
ok = got.dtype == np.float32 and np.abs(got - want).max() < 1.2 and raw.dtype == np.int8
ok = ok and np.array_equal(got == 0, want == 0)
ok = ok and layers == ['out_0.float.npy', 'out_0.npy']  # the Relu is fused into the Mul
ok = ok and np.array_equal(np.load('$work/layers/out_0.npy'), raw)
ok = ok and np.array_equal(np.load('$work/layers/out_0.float.npy'), got)
sys.exit(0 if ok else 1)" \
  && echo "ok   program output values" || { echo "FAIL program output values"; failures=$((failures + 1)); }
/usr/bin/python3 - "$work" <<'PY'
import sys
d = sys.argv[1]
data = bytearray(open(f"{d}/q/model.lqm", "rb").read())
open(f"{d}/truncated.lqm", "wb").write(data[: len(data) - 10])
data[-3] ^= 0xFF
open(f"{d}/corrupt.lqm", "wb").write(data)
PY
cp "$work/model.onnx" "$work/onnx_renamed.lqm"
check "program wrong shape" 1 "the program was compiled for [2,3]" -- "$lquant" run "$work/q/model.lqm" --input "$work/x_bad_shape.npy" --output-dir "$work/fixed"
check "program corrupt" 1 "corrupt" -- "$lquant" run "$work/corrupt.lqm" --input "$work/x.npy" --output-dir "$work/fixed"
check "program truncated" 1 "truncated" -- "$lquant" run "$work/truncated.lqm" --input "$work/x.npy" --output-dir "$work/fixed"
check "program not lqm" 1 "not a libquant program" -- "$lquant" run "$work/onnx_renamed.lqm" --input "$work/x.npy" --output-dir "$work/fixed"
check "raw needs a program" 2 "apply to a compiled MODEL.lqm" -- "$lquant" run "$work/model.onnx" --raw --input "$work/x.npy" --output-dir "$work/out"
check "quantize int8 target" 0 "falls back to int8" -- "$lquant" quantize "$work/model.onnx" --calib x="$work/calib" --out "$work/q8" --bits 16 --target int8
check "quantize mixed precision without candidates" 0 "mixed precision: 0 tensors int16" -- "$lquant" quantize "$work/model.onnx" --calib x="$work/calib" --out "$work/qm" --int16-budget 0.5
check "quantize mixed precision" 0 "becomes int16" -- "$lquant" quantize "$work/deep.onnx" --calib x="$work/calib" --out "$work/qd" --int16-budget 0.5
# The flag is what made them int16: the same model without it keeps every activation int8.
/usr/bin/python3 - "$work" <<'PY' || { echo "FAIL mixed precision params"; failures=$((failures + 1)); }
import json, sys
d = sys.argv[1]
def int16(path):
    params = json.load(open(path))
    tensors = params.get("tensors", params)
    return sorted(k for k, v in tensors.items() if isinstance(v, dict) and v.get("dtype") == "int16")
mixed = int16(f"{d}/qd/quant_params.json")
assert mixed and set(mixed) <= {"m", "s"}, mixed
PY
check "quantize without mixed precision" 0 "" -- "$lquant" quantize "$work/deep.onnx" --calib x="$work/calib" --out "$work/qd8"
/usr/bin/python3 - "$work" <<'PY' || { echo "FAIL int8 params"; failures=$((failures + 1)); }
import json, sys
params = json.load(open(f"{sys.argv[1]}/qd8/quant_params.json"))
tensors = params.get("tensors", params)
assert not [k for k, v in tensors.items() if isinstance(v, dict) and v.get("dtype") == "int16"], tensors
PY
check "quantize bad int16 budget" 2 "--int16-budget takes a share in [0, 1]" -- "$lquant" quantize "$work/model.onnx" --calib x="$work/calib" --out "$work/qm" --int16-budget 2
check "quantize without data" 2 "needs --calib" -- "$lquant" quantize "$work/model.onnx" --out "$work/q"
check "quantize bad method" 1 "percentile" -- "$lquant" quantize "$work/model.onnx" --calib "$work/calib" --out "$work/q" --method best
check "build" 0 "(fixed-point program)" -- "$lquant" build "$work/job.yaml"
test -s "$work/built/report.json" && test -s "$work/built/build.log" && test -s "$work/built/model.lqm" || { echo "FAIL build artifacts"; failures=$((failures + 1)); }
check "build skip without data" 0 "not for accuracy" -- "$lquant" build "$work/skip.yaml"
/usr/bin/python3 - "$work" <<'PY' || { echo "FAIL build skip report"; failures=$((failures + 1)); }
import json, sys
d = sys.argv[1]
report = json.load(open(f"{d}/built_skip/report.json"))
assert "random inputs" in report["not_for_accuracy"], report
assert report["calibration_samples"] == 4, report
params = json.load(open(f"{d}/built_skip/quant_params.json"))
tensors = params.get("tensors", params)
x = tensors["x"]
# Random x in [0, 4): its range is inside [0, 4] and well above [-1, 1]'s.
lo, hi = x["range"] if "range" in x else (x["min"], x["max"])
assert 0 <= lo and 2 < hi <= 4, x
assert "built_skip/model.lqm" in " ".join(report["artifacts"]) or report["program"]["instructions"] > 0
PY
check "build without data needs skip" 1 "calibration" -- "$lquant" build "$work/skip_nodata_max.yaml"
check "build bad key" 1 "did you mean 'quantization'" -- "$lquant" build "$work/bad.json"
check "build print-config" 0 "\"histogram_bins\": 2048" -- "$lquant" build "$work/job.yaml" --print-config
echo "$((checks + 1 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
