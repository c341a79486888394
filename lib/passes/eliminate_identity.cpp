#include "passes/passes.hpp"

namespace lq::passes {

namespace {

bool is_identity(const Node& node) {
  if (!node.domain().empty()) return false;
  if (node.op_type() == "Identity") return true;
  if (node.op_type() != "Dropout") return false;
  // Inference Dropout is identity unless training_mode is a non-false input or the mask is used.
  const Value* training = node.input(2);
  if (training && (!training->is_constant() || training->initializer()->numel() != 1 ||
                   training->initializer()->to_int64s()[0] != 0)) {
    return false;
  }
  const Value* mask = node.output(1);
  return !mask || (mask->uses().empty() && !mask->is_graph_output());
}

}  // namespace

bool eliminate_identity(Graph& graph) {
  bool changed = false;
  for (Node* node : graph.nodes()) {
    if (!is_identity(*node) || !node->input(0)) continue;
    Value* in = node->input(0);
    Value* out = node->output(0);
    // Graph outputs keep their names; a graph input passed straight through stays as is. A
    // node without outputs is left for the verifier to name (fuzz regression).
    if (!out || out->is_graph_output()) continue;
    graph.replace_all_uses(out, in);
    graph.remove_node(node);
    changed = true;
  }
  if (changed) graph.remove_unused_values();
  return changed;
}

}  // namespace lq::passes
