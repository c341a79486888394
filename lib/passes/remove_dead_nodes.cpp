#include "passes/passes.hpp"

namespace lq::passes {

bool remove_dead_nodes(Graph& graph) {
  bool changed = false;
  const std::vector<Node*> nodes = graph.nodes();
  // Reverse topological order: removing a node can make its producers dead.
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    Node* node = *it;
    bool dead = true;
    for (const Value* out : node->outputs()) {
      if (!out->uses().empty() || out->is_graph_output()) dead = false;
    }
    if (!dead) continue;
    graph.remove_node(node);
    changed = true;
  }
  const size_t before = graph.initializers().size();
  graph.remove_unused_values();
  return changed || graph.initializers().size() != before;
}

}  // namespace lq::passes
