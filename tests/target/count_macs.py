#!/usr/bin/python3
"""An independent count of a model's multiply-accumulates and int8 weight bytes (Debian's
python3-onnx: ONNX shape inference, no libquant code), checked against `lquant estimate
--json`. Usage: count_macs.py LQUANT MODEL.onnx INPUT=1x3x48x192 [TARGET]. Exits 77 without
python3-onnx or the model."""
import json
import os
import subprocess
import sys

try:
    import onnx
    from onnx import numpy_helper, shape_inference
except ImportError:
    print("python3-onnx is not installed (apt-get install python3-onnx)")
    sys.exit(77)

lquant, model_path, input_arg = sys.argv[1:4]
target = sys.argv[4] if len(sys.argv) > 4 else "int8"
if not os.path.exists(model_path):
    print(f"{model_path} is missing (scripts/fetch-models.sh)")
    sys.exit(77)
name, dims = input_arg.split("=")
dims = [int(d) for d in dims.split("x")]

model = onnx.load(model_path)
for inp in model.graph.input:
    if inp.name == name:
        for d, n in zip(inp.type.tensor_type.shape.dim, dims):
            d.ClearField("dim_param")
            d.dim_value = n
model = shape_inference.infer_shapes(model)
shapes = {}
for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
    shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
for node in model.graph.node:  # weights as Constant nodes (paddle2onnx)
    if node.op_type == "Constant":
        inits[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
readers = {}
for node in model.graph.node:
    for i in node.input:
        readers.setdefault(i, []).append(node.op_type)


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


expected = {}  # node -> (macs, weight bytes: int8 weights + int32 bias)
conv_outputs = {}
for node in model.graph.node:
    if node.op_type == "Conv":
        w = inits[node.input[1]]
        out = shapes[node.output[0]]
        macs = numel(out) * numel(w.shape[1:])  # each output: Cin/group x kh x kw products
        # An int32 bias per output channel: its own, or a following BatchNormalization's
        # (libquant folds it into the Conv).
        has_bias = (len(node.input) > 2 and node.input[2]) or readers.get(node.output[0]) == ["BatchNormalization"]
        bias = w.shape[0] * 4 if has_bias else 0
        expected[node.name] = (macs, w.size + bias)
        conv_outputs[node.name] = numel(out)  # int8: a byte per element
    elif node.op_type in ("MatMul", "Gemm"):
        a = shapes.get(node.input[0], [])
        w = inits[node.input[1]]
        if not a or 0 in a:  # shape inference stopped (a Reshape of computed shape): [batch, K]
            a = [dims[0], w.shape[0]]
        k = a[-1]
        m = numel(a[:-1])
        n_out = w.shape[0] if node.op_type == "Gemm" and any(
            at.name == "transB" and at.i == 1 for at in node.attribute) else w.shape[-1]
        expected[node.name] = (m * k * n_out, w.size)

est = json.loads(subprocess.run([lquant, "estimate", model_path, "--target", target, "--input-shape",
                                 input_arg, "--json"], check=True, capture_output=True, text=True).stdout)
got = {l["node"]: l for l in est["layers"]}
bad = 0
for node, (macs, wbytes) in expected.items():
    if node not in got:
        print(f"{node}: no layer in the estimate")
        bad += 1
        continue
    if got[node]["macs"] != macs:
        print(f"{node}: MACs {got[node]['macs']}, independent count {macs}")
        bad += 1
    # A following Add of a MatMul may be folded into its bias: allow the bias' 4 bytes/channel.
    if got[node]["weight_bytes"] != wbytes and not (node.startswith("p2o.MatMul") and
                                                     got[node]["weight_bytes"] >= wbytes):
        print(f"{node}: weight bytes {got[node]['weight_bytes']}, independent count {wbytes}")
        bad += 1
for node, elements in conv_outputs.items():
    if node in got and got[node]["output_bytes"] != elements:
        print(f"{node}: output bytes {got[node]['output_bytes']}, independent count {elements}")
        bad += 1
total = sum(m for m, _ in expected.values())
print(f"{len(expected)} MAC layers, {total} MACs (estimate: {est['macs']}), {bad} mismatches")
if est["macs"] != total:
    print("total MACs differ")
    bad += 1
sys.exit(1 if bad else 0)
