# Prints the bytes of the C ABI tests' model (kTestModel in test_capi_util.c) as C initializers:
#   /usr/bin/python3 tests/capi/make_test_model.py
import onnx
from onnx import TensorProto, helper

w = helper.make_tensor("w", TensorProto.FLOAT, [2, 3, 1, 1], [1, 0, -1, 0.5, 0.5, 0.5])
b = helper.make_tensor("b", TensorProto.FLOAT, [2], [0.25, -1])
nodes = [
    helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
    helper.make_node("Identity", ["c"], ["i"], name="identity"),
    helper.make_node("Relu", ["i"], ["r"], name="relu"),
    helper.make_node("Add", ["r", "s"], ["y"], name="add"),
    helper.make_node("Shape", ["y"], ["y_shape"], name="shape"),
]
graph = helper.make_graph(
    nodes, "capi_test",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4]),
     helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 2, 1, 1])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 4, 4]),
     helper.make_tensor_value_info("y_shape", TensorProto.INT64, [4])],
    [w, b])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="capi")
model.ir_version = 8
onnx.checker.check_model(model)
data = model.SerializeToString()

lines = []
for i in range(0, len(data), 16):
    lines.append("    " + " ".join(f"0x{c:02x}," for c in data[i:i + 16]))
print("\n".join(lines))
