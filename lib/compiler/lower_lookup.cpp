// Unary functions of an integer input become tables with one entry per input code (256, or
// 65536 for int16). The table is computed by the op's own float reference kernel on the
// dequantized codes (constant operands fake-quantized as fake quantization reads them), then
// quantized like QuantizeLinear: a table op equals fake quantization exactly, for every op
// below, with one definition of each function.
//
// An elementwise chain (QuantDecisions::chains: x * HardSigmoid(x), x * Sigmoid(x), ...) is
// one table too: its inner nodes are deferred (Lowering::defer) and its end runs the whole
// chain in float on x's codes, as fake quantization computes it.
#include <fmt/format.h>

#include <functional>
#include <set>

#include "compiler/lowering.hpp"
#include "graph/roles.hpp"

namespace lq::compiler {

namespace {

// The deferred nodes computing `node`'s operands, operands first (a post-order walk).
std::vector<const Node*> chain_before(const Lowering& l, const Node& node) {
  std::vector<const Node*> order;
  std::set<const Node*> seen;
  std::function<void(const Node&)> visit = [&](const Node& n) {
    for (const Value* in : n.inputs()) {
      if (!in || !l.deferred_root(in)) continue;
      const Node* producer = in->producer();
      if (seen.insert(producer).second) {
        visit(*producer);
        order.push_back(producer);
      }
    }
  };
  visit(node);
  return order;
}

}  // namespace

bool lower_lookup(Lowering& l, const Node& node, std::string& why) {
  if (!roles::is_elementwise(node) || node.outputs().size() != 1) return false;
  // The one integer tensor x every run-time operand is computed from.
  const Value* x = nullptr;
  for (const Value* v : node.inputs()) {
    if (!v) continue;
    if (v->is_constant()) {
      if (v->initializer()->numel() != 1) return false;  // per-channel: the arithmetic rules
      continue;
    }
    const Value* root = l.deferred_root(v) ? l.deferred_root(v) : v;
    if (x && x != root) return false;  // two run-time operands: not unary
    x = root;
  }
  if (!x) return false;
  const Value* y = node.output(0);
  for (const Value* v : {x, y}) {
    if (!l.is_integer(v)) {
      why = (v == x ? "input " : "output ") + l.not_integer_reason(v);
      return false;
    }
  }
  const std::vector<const Node*> chain = chain_before(l, node);
  const QuantParams& in = *l.params(x);
  // int16: 65536 entries per table, so single ops with an integer kernel (clamped rescale,
  // Add, Sub, Mul) use it instead.
  const std::string& op = node.op_type();
  const bool has_kernel = op == "Relu" || op == "Clip" || op == "Add" || op == "Sub" || op == "Mul";
  if (in.dtype == DType::kInt16 && has_kernel && chain.empty()) return false;
  const int count = in.qmax() - in.qmin() + 1;
  Tensor codes(DType::kFloat32, {count});
  for (int i = 0; i < count; ++i) {
    codes.data<float>()[i] = dequantize_value(in.qmin() + i, in.scale[0], in.zero_point[0]);
  }
  // Run the chain and the node in float on every code, as fake quantization runs them.
  std::map<const Value*, Tensor> computed;
  for (const Node* n : chain) computed.emplace(n->output(0), Tensor());
  auto run = [&](const Node& n) {
    std::vector<const Tensor*> inputs;
    for (size_t i = 0; i < n.inputs().size(); ++i) {
      const Value* v = n.input(i);
      if (!v) {
        inputs.push_back(nullptr);
      } else if (v->is_constant()) {
        inputs.push_back(l.folded_constant(n, i));
      } else {
        inputs.push_back(v == x ? &codes : &computed.at(v));
      }
    }
    std::vector<Tensor> out = l.evaluate(n, inputs);
    return out.empty() || out[0].numel() != count || out[0].dtype() != DType::kFloat32 ? Tensor()
                                                                                       : std::move(out[0]);
  };
  for (const Node* n : chain) {
    computed[n->output(0)] = run(*n);
    if (computed[n->output(0)].numel() != count) return false;
  }
  const Tensor result = run(node);
  if (result.numel() != count) return false;
  const QuantParams& out = *l.params(y);
  integer::LookupTable table;
  table.input_dtype = in.dtype;
  table.output_dtype = out.dtype;
  for (int i = 0; i < count; ++i) {
    table.values.push_back(quantize_value(result.data<float>()[i], out.scale[0], out.zero_point[0],
                                          out.qmin(), out.qmax()));
  }
  l.emit(integer::lookup_kernel(), node, {l.tensor(x)}, {l.tensor(y)}, table);
  return true;
}

}  // namespace lq::compiler
