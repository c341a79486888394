// The fusion and chain records of a QuantizedGraph, from which values have parameters.
#include "libquant/quantizer.hpp"
#include "graph/roles.hpp"

namespace lq {

namespace {

bool float_or_undefined(const Value& v) {
  const DType d = v.is_constant() ? v.initializer()->dtype() : v.type().dtype;
  return d == DType::kFloat32 || d == DType::kUndefined;
}

}  // namespace

QuantDecisions derive_decisions(const Graph& graph, const std::map<std::string, QuantParams>& params) {
  auto has_params = [&](const Value& v) { return params.count(v.name()) > 0; };
  // A tensor the integer kernels can read: 8/16-bit codes, one scale (the Compiler also
  // asks its Target for int16).
  auto integer = [&](const Value& v) {
    auto it = params.find(v.name());
    if (it == params.end() || it->second.per_channel() || !float_or_undefined(v)) return false;
    const DType d = it->second.dtype;
    return d == DType::kInt8 || d == DType::kUInt8 || d == DType::kInt16;
  };
  QuantDecisions out;
  for (const Node* node : graph.nodes()) {  // topological: a chain's operands first
    for (const Value* v : node->outputs()) {
      if (has_params(*v)) continue;
      if (const Node* activation = roles::fused_activation(*v)) out.fusions[v->name()] = activation->output(0)->name();
    }
    if (!roles::is_elementwise(*node) || node->outputs().size() != 1) continue;
    const Value* value = node->output(0);
    if (has_params(*value) || !float_or_undefined(*value) || value->is_graph_output() || value->uses().empty()) {
      continue;
    }
    bool readers_elementwise = true;
    for (const Use& use : value->uses()) readers_elementwise = readers_elementwise && roles::is_elementwise(*use.node);
    if (!readers_elementwise) continue;
    std::string root;
    bool single = true;
    for (const Value* in : node->inputs()) {
      if (!in) continue;
      if (in->is_constant()) {
        single = single && in->initializer()->numel() == 1;
        continue;
      }
      auto inner = out.chains.find(in->name());
      const std::string r = inner != out.chains.end() ? inner->second : integer(*in) ? in->name() : "";
      single = single && !r.empty() && (root.empty() || root == r);
      root = r;
    }
    if (single && !root.empty()) out.chains[value->name()] = root;
  }
  return out;
}

}  // namespace lq
