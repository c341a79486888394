// Boundary surgery (hb_compile's remove_node_type / remove_node_name and output_nodes):
// nodes where the model meets the application (a trailing Softmax or Transpose, a leading
// Cast or Transpose, Quantize/Dequantize pairs of an exported model) are removed and reported,
// so that the application runs them itself; values can be added as extra outputs.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "graph/nearest_name.hpp"
#include "libquant/graph.hpp"
#include "passes/passes.hpp"

namespace lq {

namespace {

std::string suggestion(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string nearest = nearest_name(name, candidates);
  return nearest.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", nearest);
}

// The node's one non-constant input, or nullptr when it has none or several.
Value* data_input(const Node& node) {
  Value* data = nullptr;
  for (Value* in : node.inputs()) {
    if (!in || in->is_constant()) continue;
    if (data && data != in) return nullptr;
    data = in;
  }
  return data;
}

bool at_output(const Node& node) {
  if (!data_input(node)) return false;
  for (const Value* out : node.outputs()) {
    if (out && (!out->is_graph_output() || !out->uses().empty())) return false;
  }
  return true;
}

bool at_input(const Node& node) {
  const Value* in = data_input(node);
  if (!in || !in->is_graph_input() || in->is_graph_output() || node.outputs().size() != 1) return false;
  for (const Use& use : in->uses()) {
    if (use.node != &node) return false;
  }
  return !node.output(0)->is_graph_output();
}

RemovedNode record(const Node& node, bool input_side) {
  RemovedNode r;
  r.name = node.name();
  r.op_type = node.op_type();
  r.at_input = input_side;
  for (const Value* v : node.inputs()) r.inputs.push_back(v ? v->name() : "");
  for (const Value* v : node.outputs()) r.outputs.push_back(v ? v->name() : "");
  r.attributes = node.attributes();
  return r;
}

void remove_at_output(Graph& graph, Node* node) {
  Value* input = data_input(*node);
  std::vector<Value*> outputs;
  for (Value* v : graph.outputs()) {
    if (v->producer() != node) {
      outputs.push_back(v);
    } else if (v == node->output(0) && std::find(outputs.begin(), outputs.end(), input) == outputs.end()) {
      outputs.push_back(input);
    }
  }
  graph.remove_node(node);
  graph.set_outputs(outputs);
}

void remove_at_input(Graph& graph, Node* node) {
  Value* input = data_input(*node);
  Value* output = node->output(0);
  std::vector<Value*> inputs;
  for (Value* v : graph.inputs()) inputs.push_back(v == input ? output : v);
  graph.remove_node(node);
  graph.set_inputs(inputs);
}

}  // namespace

std::vector<RemovedNode> remove_boundary_nodes(Graph& graph, const BoundaryRemoval& removal) {
  std::vector<std::string> node_names, op_types;
  for (const Node* node : graph.nodes()) {
    node_names.push_back(node->name());
    op_types.push_back(node->op_type());
  }
  for (const std::string& name : removal.node_names) {
    if (!graph.find_node(name)) {
      throw Error(StatusCode::kNotFound, fmt::format("cannot remove node \"{}\": no node has that name{}", name,
                                                     suggestion(name, node_names)));
    }
  }
  for (const std::string& type : removal.op_types) {
    if (std::find(op_types.begin(), op_types.end(), type) == op_types.end()) {
      std::set<std::string> unique(op_types.begin(), op_types.end());
      throw Error(StatusCode::kNotFound,
                  fmt::format("cannot remove nodes of op type \"{}\": the model has none{}", type,
                              suggestion(type, std::vector<std::string>(unique.begin(), unique.end()))));
    }
  }
  std::set<std::string> names(removal.node_names.begin(), removal.node_names.end());
  const std::set<std::string> types(removal.op_types.begin(), removal.op_types.end());
  std::vector<RemovedNode> removed;
  for (bool changed = true; changed;) {
    changed = false;
    for (Node* node : graph.nodes()) {
      if (!names.count(node->name()) && !types.count(node->op_type())) continue;
      const bool output_side = at_output(*node);
      if (!output_side && !at_input(*node)) continue;
      removed.push_back(record(*node, !output_side));
      names.erase(node->name());
      output_side ? remove_at_output(graph, node) : remove_at_input(graph, node);
      changed = true;
      break;
    }
  }
  if (!names.empty()) {
    const Node* node = graph.find_node(*names.begin());
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("cannot remove {}: it is not at the model's boundary (its outputs must all be "
                            "graph outputs nothing else reads, or its one non-constant input a graph input "
                            "only it reads); remove the nodes between it and the boundary too",
                            node->describe()));
  }
  passes::remove_dead_nodes(graph);
  return removed;
}

std::string removed_nodes_json(const std::vector<RemovedNode>& removed) {
  nlohmann::json list = nlohmann::json::array();
  for (const RemovedNode& r : removed) {
    nlohmann::json attributes = nlohmann::json::object();
    for (const auto& [key, a] : r.attributes) {
      switch (a.type) {
        case AttrType::kFloat: attributes[key] = a.f; break;
        case AttrType::kInt: attributes[key] = a.i; break;
        case AttrType::kString: attributes[key] = a.s; break;
        case AttrType::kFloats: attributes[key] = a.floats; break;
        case AttrType::kInts: attributes[key] = a.ints; break;
        case AttrType::kStrings: attributes[key] = a.strings; break;
        default: attributes[key] = "(tensor or graph)"; break;
      }
    }
    list.push_back({{"name", r.name},
                    {"op_type", r.op_type},
                    {"boundary", r.at_input ? "input" : "output"},
                    {"inputs", r.inputs},
                    {"outputs", r.outputs},
                    {"attributes", attributes}});
  }
  return list.dump(2);
}

void add_outputs(Graph& graph, const std::vector<std::string>& value_names) {
  std::vector<Value*> outputs = graph.outputs();
  for (const std::string& name : value_names) {
    Value* v = graph.find_value(name);
    if (!v || v->is_constant()) {
      std::vector<std::string> candidates;
      for (const Value* in : graph.inputs()) candidates.push_back(in->name());
      for (const Node* node : graph.nodes()) {
        for (const Value* out : node->outputs()) {
          if (out) candidates.push_back(out->name());
        }
      }
      throw Error(StatusCode::kNotFound,
                  fmt::format("cannot add output \"{}\": {}{}", name,
                              v ? "it is a constant" : "no value has that name", suggestion(name, candidates)));
    }
    if (std::find(outputs.begin(), outputs.end(), v) == outputs.end()) outputs.push_back(v);
  }
  graph.set_outputs(outputs);
}

}  // namespace lq
