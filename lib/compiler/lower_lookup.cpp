// Unary functions of an integer input become tables with one entry per input code (256, or
// 65536 for int16). The table is computed by the op's own float reference kernel on the
// dequantized codes (constant operands
// fake-quantized as fake quantization reads them), then quantized like QuantizeLinear: a
// table op equals fake quantization exactly, for every op below, with one definition of
// each function.
#include <fmt/format.h>

#include <set>

#include "compiler/lowering.hpp"

namespace lq::compiler {

namespace {

// Elementwise in every input: with all inputs but one constant scalars, a unary function.
const std::set<std::string> kElementwiseOps = {
    "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Exp", "Log",
    "Sqrt", "Abs", "Neg", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Erf", "Reciprocal",
    "Floor", "Ceil", "Round", "Sin", "Cos", "Sign", "ThresholdedRelu", "Mish", "Gelu", "PRelu",
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};


}  // namespace

bool lower_lookup(Lowering& l, const Node& node, std::string& why) {
  if (!node.domain().empty() || !kElementwiseOps.count(node.op_type())) return false;
  if (node.outputs().size() != 1) return false;
  int data_input = -1;
  for (size_t i = 0; i < node.inputs().size(); ++i) {
    const Value* v = node.input(i);
    if (!v) continue;
    if (!v->is_constant()) {
      if (data_input >= 0) return false;  // two run-time operands: not unary
      data_input = static_cast<int>(i);
    } else if (v->initializer()->numel() != 1) {
      return false;  // a per-channel operand: the arithmetic rules handle it
    }
  }
  if (data_input < 0) return false;
  const Value* x = node.input(static_cast<size_t>(data_input));
  const Value* y = node.output(0);
  for (const Value* v : {x, y}) {
    if (!l.is_integer(v)) {
      why = (v == x ? "input " : "output ") + l.not_integer_reason(v);
      return false;
    }
  }
  const QuantParams& in = *l.params(x);
  // int16: 65536 entries per table, so ops with an integer kernel (clamped rescale, Add,
  // Sub, Mul) use it instead.
  const std::string& op = node.op_type();
  const bool has_kernel = op == "Relu" || op == "Clip" || op == "Add" || op == "Sub" || op == "Mul";
  if (in.dtype == DType::kInt16 && has_kernel) return false;
  const int count = in.qmax() - in.qmin() + 1;
  Tensor codes(DType::kFloat32, {count});
  for (int i = 0; i < count; ++i) {
    codes.data<float>()[i] = dequantize_value(in.qmin() + i, in.scale[0], in.zero_point[0]);
  }
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < node.inputs().size(); ++i) {
    inputs.push_back(static_cast<int>(i) == data_input ? &codes : l.folded_constant(node, i));
  }
  const std::vector<Tensor> values = l.evaluate(node, inputs);
  if (values.at(0).numel() != count || values[0].dtype() != DType::kFloat32) return false;
  const QuantParams& out = *l.params(y);
  integer::LookupTable table;
  table.input_dtype = in.dtype;
  table.output_dtype = out.dtype;
  for (int i = 0; i < count; ++i) {
    table.values.push_back(quantize_value(values[0].data<float>()[i], out.scale[0],
                                          out.zero_point[0], out.qmin(), out.qmax()));
  }
  l.emit(Kernel::kLookup, node, {l.tensor(x)}, {l.tensor(y)}, table);
  return true;
}

}  // namespace lq::compiler
