#include <fmt/format.h>

#include "libquant/graph.hpp"
#include "passes/passes.hpp"

namespace lq {

void cut_outputs(Graph& graph, const std::vector<std::string>& value_names) {
  std::vector<Value*> outputs;
  for (const std::string& name : value_names) {
    Value* v = graph.find_value(name);
    if (!v) {
      throw Error(StatusCode::kNotFound,
                  fmt::format("cannot cut the graph at \"{}\": no value has that name", name));
    }
    outputs.push_back(v);
  }
  graph.set_outputs(outputs);
  passes::remove_dead_nodes(graph);
}

void remove_output_nodes(Graph& graph, const std::vector<std::string>& node_names) {
  for (const std::string& name : node_names) {
    Node* node = graph.find_node(name);
    if (!node) {
      throw Error(StatusCode::kNotFound, fmt::format("cannot remove node \"{}\": no node has that name", name));
    }
    for (const Value* out : node->outputs()) {
      if (!out->is_graph_output() || !out->uses().empty()) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("cannot remove {}: its output \"{}\" feeds other nodes or is no "
                                "graph output, so the node is not at the output boundary",
                                node->describe(), out->name()));
      }
    }
    Value* input = node->input(0);
    if (!input) {
      throw Error(StatusCode::kInvalidArgument, fmt::format("cannot remove {}: it has no input", node->describe()));
    }
    std::vector<Value*> outputs;
    for (Value* v : graph.outputs()) {
      const bool produced_here = v->producer() == node;
      if (!produced_here) outputs.push_back(v);
      if (produced_here && v == node->output(0)) outputs.push_back(input);
    }
    graph.remove_node(node);
    graph.set_outputs(outputs);
  }
  passes::remove_dead_nodes(graph);
}

}  // namespace lq
