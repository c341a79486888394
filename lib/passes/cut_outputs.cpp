#include <fmt/format.h>

#include "graph/nearest_name.hpp"
#include "libquant/graph.hpp"
#include "passes/passes.hpp"

namespace lq {

namespace {

// ` (did you mean "relu_out"?)`, or "" when the graph has no candidate.
std::string suggestion(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string nearest = nearest_name(name, candidates);
  return nearest.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", nearest);
}

std::vector<std::string> all_value_names(const Graph& graph) {
  std::vector<std::string> names;
  for (const Value* v : graph.inputs()) names.push_back(v->name());
  for (const Node* node : graph.nodes()) {
    for (const Value* v : node->outputs()) {
      if (v) names.push_back(v->name());
    }
  }
  return names;
}

std::vector<std::string> all_node_names(const Graph& graph) {
  std::vector<std::string> names;
  for (const Node* node : graph.nodes()) names.push_back(node->name());
  return names;
}

}  // namespace

void cut_outputs(Graph& graph, const std::vector<std::string>& value_names) {
  std::vector<Value*> outputs;
  for (const std::string& name : value_names) {
    Value* v = graph.find_value(name);
    if (!v) {
      throw Error(StatusCode::kNotFound,
                  fmt::format("cannot cut the graph at \"{}\": no value has that name{}", name,
                              suggestion(name, all_value_names(graph))));
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
      throw Error(StatusCode::kNotFound, fmt::format("cannot remove node \"{}\": no node has that name{}", name,
                                                     suggestion(name, all_node_names(graph))));
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
