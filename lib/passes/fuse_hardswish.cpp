// x * Clip(x + 3, 0, 6) / 6 (how exporters spell HardSwish) -> x * HardSigmoid(x).
// Same function, but no intermediate with a range of up to 6x the input's, which is what
// costs precision once every value is quantized. HardSigmoid exists in every opset we read.
#include <cmath>

#include "passes/passes.hpp"

namespace lq::passes {

namespace {

bool is_scalar_constant(const Value* v, double expected) {
  if (!v || !v->is_constant() || v->initializer()->numel() != 1) return false;
  return std::fabs(v->initializer()->to_doubles()[0] - expected) < 1e-6;
}

// The node producing `v`, if v feeds nothing but `consumer` and is not a graph output.
Node* sole_producer(const Value* v, const std::string& op_type) {
  if (!v || !v->producer() || v->is_graph_output() || v->uses().size() != 1) return nullptr;
  Node* p = v->producer();
  return p->op_type() == op_type && p->domain().empty() ? p : nullptr;
}

bool clips_to(const Node& clip, double lo, double hi) {
  if (clip.has_attr("min") || clip.has_attr("max") || clip.inputs().size() <= 1) {
    return std::fabs(clip.attr_float("min", -INFINITY) - lo) < 1e-6 &&
           std::fabs(clip.attr_float("max", INFINITY) - hi) < 1e-6;
  }
  return is_scalar_constant(clip.input(1), lo) && is_scalar_constant(clip.input(2), hi);
}

// Returns x if `div` is Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6), else nullptr.
Value* hardswish_input(const Node& div) {
  if (div.op_type() != "Div" || !div.domain().empty() || !is_scalar_constant(div.input(1), 6.0)) return nullptr;
  Node* mul = sole_producer(div.input(0), "Mul");
  if (!mul) return nullptr;
  for (size_t side = 0; side < 2; ++side) {
    Value* x = mul->input(side);
    Node* clip = sole_producer(mul->input(1 - side), "Clip");
    if (!x || !clip || !clips_to(*clip, 0.0, 6.0)) continue;
    Node* add = sole_producer(clip->input(0), "Add");
    if (!add) continue;
    const bool x_plus_3 = (add->input(0) == x && is_scalar_constant(add->input(1), 3.0)) ||
                          (add->input(1) == x && is_scalar_constant(add->input(0), 3.0));
    if (x_plus_3) return x;
  }
  return nullptr;
}

}  // namespace

bool fuse_hardswish(Graph& graph) {
  bool changed = false;
  for (Node* div : graph.nodes()) {
    if (div->op_type() != "Div") continue;  // nodes removed below are never Div
    Value* x = hardswish_input(*div);
    if (!x) continue;
    Node* mul = div->input(0)->producer();
    Node* clip = mul->input(0) == x ? mul->input(1)->producer() : mul->input(0)->producer();
    Node* add = clip->input(0)->producer();
    Value* out = div->output(0);
    const std::string name = div->name();
    for (Node* n : {div, mul, clip, add}) graph.remove_node(n);
    Value* gate = graph.add_value(graph.unique_name(name + "_hardsigmoid"));
    Node* hs = graph.add_node("HardSigmoid", {x}, {gate}, graph.unique_name(name + "_hardsigmoid"));
    Attribute alpha, beta;
    alpha.type = beta.type = AttrType::kFloat;
    alpha.f = 1.0f / 6.0f;
    beta.f = 0.5f;
    hs->set_attr("alpha", alpha);
    hs->set_attr("beta", beta);
    graph.add_node("Mul", {x, gate}, {out}, name);
    changed = true;
  }
  if (changed) {
    graph.remove_unused_values();
    graph.topological_sort();
  }
  return changed;
}

}  // namespace lq::passes
