#!/usr/bin/env bash
# Control flow: a model with an If (branches reading outer values) imports, the If with a
# constant condition folds to the branch it takes, and lquant run gives that branch's
# result; an If whose condition is a model input stays an If, runs in float, and is a CPU node.
# Usage: test_lquant_if.sh LQUANT. Exits 77 without python3-onnx.
set -uo pipefail
lquant=$1
/usr/bin/python3 -c "import onnx" 2>/dev/null || { echo "python3-onnx missing"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work" <<'PY'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
d = sys.argv[1]
def model(cond_nodes, inits, inputs, path):
    x_out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    t_out = helper.make_tensor_value_info("t_out", TensorProto.FLOAT, [1, 4])
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t_relu"], name="t_relu"),
                                helper.make_node("Mul", ["t_relu", "two"], ["t_out"], name="t_mul")],
                               "then", [], [t_out])
    e_out = helper.make_tensor_value_info("e_out", TensorProto.FLOAT, [1, 4])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e_out"], name="e_neg")], "else", [], [e_out])
    nodes = cond_nodes + [helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then_g,
                                           else_branch=else_g)]
    g = helper.make_graph(nodes, "if_model", inputs, [x_out], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    onnx.save(m, path)
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
two = numpy_helper.from_array(np.array([2.0], np.float32), "two")
half = numpy_helper.from_array(np.array([0.5], np.float32), "half")
for flag in (0, 1):
    f = numpy_helper.from_array(np.array([float(flag)], np.float32), "flag")
    model([helper.make_node("Greater", ["flag", "half"], ["cond"], name="cond")], [two, half, f], [x],
          f"{d}/if{flag}.onnx")
c = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
model([], [two], [x, c], f"{d}/if_input.onnx")
np.save(f"{d}/x.npy", np.array([[-1.5, -0.25, 0.5, 3.0]], np.float32))
np.save(f"{d}/then.npy", np.array([[0.0, 0.0, 1.0, 6.0]], np.float32))
np.save(f"{d}/cond.npy", np.array(True))
np.save(f"{d}/else.npy", np.array([[1.5, 0.25, -0.5, -3.0]], np.float32))
PY
failures=0
for flag in 0 1; do
  want=$([ $flag = 1 ] && echo then || echo else)
  if ! out=$("$lquant" run "$work/if$flag.onnx" --input x="$work/x.npy" --output-dir "$work/out$flag" 2>&1); then
    echo "FAIL if$flag: lquant run failed:"; echo "$out" | sed 's/^/    /'; failures=$((failures + 1)); continue
  fi
  if /usr/bin/python3 -c "import numpy as np, sys; sys.exit(0 if np.array_equal(np.load('$work/out$flag/y.npy'), np.load('$work/$want.npy')) else 1)"; then
    echo "ok   If with constant condition $flag folds to its $want branch"
  else
    echo "FAIL if$flag: output is not the $want branch's"; failures=$((failures + 1))
  fi
done
# An If whose condition is a model input runs the branch the value picks (in float), and
# check lists it as a CPU node (exit 3), not as unsupported.
if out=$("$lquant" run "$work/if_input.onnx" --input x="$work/x.npy" --input cond="$work/cond.npy" --output-dir "$work/outc" 2>&1) &&
   /usr/bin/python3 -c "import numpy as np, sys; sys.exit(0 if np.array_equal(np.load('$work/outc/y.npy'), np.load('$work/then.npy')) else 1)"; then
  echo "ok   an If with a run-time condition true runs its then branch"
else
  echo "FAIL run-time If: $out"; failures=$((failures + 1))
fi
out=$("$lquant" check "$work/if_input.onnx" 2>&1); code=$?
if [ $code -eq 3 ] && grep -q '^CPU .*If' <<<"$out"; then
  echo "ok   check places the run-time If on the CPU (exit 3)"
else
  echo "FAIL check of the run-time If: exit $code"; echo "$out" | sed 's/^/    /'; failures=$((failures + 1))
fi
exit $((failures > 0))
