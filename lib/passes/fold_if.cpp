// An If whose condition is a constant (after constant folding: shapes fixed, constant
// inputs known) is replaced by the nodes of the branch it takes. The branch's values get
// names unique in the graph; the values it reads from the enclosing graph (its capture
// inputs) are the graph's own; its outputs become the If's outputs through Identity nodes
// (eliminate_identity removes them).
#include <fmt/format.h>

#include <map>

#include "passes/passes.hpp"

namespace lq::passes {

namespace {

void inline_branch(Graph& graph, Node* node, const Graph& branch) {
  std::map<const Value*, Value*> mapped;
  for (const Value* in : branch.inputs()) {
    Value* outer = graph.find_value(in->name());
    if (!outer) {
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("{}: its branch reads \"{}\", which the graph does not define", node->describe(),
                              in->name()));
    }
    mapped[in] = outer;
  }
  for (const Value* init : branch.initializers()) {
    Value* v = graph.add_value(graph.unique_name(init->name()));
    graph.set_initializer(v, *init->initializer());
    mapped[init] = v;
  }
  std::vector<Value*> outputs(node->outputs().begin(), node->outputs().end());
  const std::string prefix = node->name() + "/";
  graph.remove_node(node);
  for (const Node* n : branch.nodes()) {
    std::vector<Value*> ins;
    for (const Value* in : n->inputs()) ins.push_back(in ? mapped.at(in) : nullptr);
    std::vector<Value*> outs;
    for (const Value* out : n->outputs()) {
      Value* v = graph.add_value(graph.unique_name(prefix + out->name()));
      v->type() = out->type();
      mapped[out] = v;
      outs.push_back(v);
    }
    Node* copy = graph.add_node(n->op_type(), ins, outs, graph.unique_name(prefix + n->name()), n->domain());
    for (const auto& [name, attr] : n->attributes()) copy->set_attr(name, attr);
  }
  for (size_t i = 0; i < outputs.size() && i < branch.outputs().size(); ++i) {
    graph.add_node("Identity", {mapped.at(branch.outputs()[i])}, {outputs[i]},
                   graph.unique_name(prefix + "output_" + std::to_string(i)));
  }
}

}  // namespace

bool fold_if(Graph& graph) {
  bool changed = false;
  for (Node* node : graph.nodes()) {
    if (node->op_type() != "If" || !node->domain().empty() || !node->input(0) || !node->input(0)->is_constant()) {
      continue;
    }
    const Tensor& cond = *node->input(0)->initializer();
    if (cond.numel() != 1) {
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("{}: its condition has {} elements, expected 1", node->describe(), cond.numel()));
    }
    const bool take_then = cond.to_doubles().at(0) != 0.0;
    const Attribute* branch = node->find_attr(take_then ? "then_branch" : "else_branch");
    if (!branch || branch->type != AttrType::kGraph || !branch->graph) {
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("{}: no {} subgraph", node->describe(), take_then ? "then_branch" : "else_branch"));
    }
    const std::shared_ptr<const Graph> keep = branch->graph;  // the node's attributes go with it
    inline_branch(graph, node, *keep);
    changed = true;
  }
  if (changed) graph.topological_sort();
  return changed;
}

}  // namespace lq::passes
