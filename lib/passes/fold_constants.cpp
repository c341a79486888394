#include <unordered_set>

#include "kernels/float/kernel.hpp"
#include "passes/passes.hpp"

namespace lq::passes {

namespace {

// Ops whose output is not a function of their inputs alone.
const std::unordered_set<std::string> kNondeterministic = {
    "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
    "Bernoulli"};

bool is_foldable(const Node& node, const kernels::KernelRegistry& registry) {
  if (!node.domain().empty() || kNondeterministic.count(node.op_type())) return false;
  if (!registry.find(node.op_type())) return false;
  for (const Value* in : node.inputs()) {
    if (in && !in->is_constant()) return false;
  }
  // A graph output keeps its producer so the model still computes it by name.
  for (const Value* out : node.outputs()) {
    if (out->is_graph_output()) return false;
  }
  return true;
}

}  // namespace

bool fold_constants(Graph& graph) {
  kernels::KernelRegistry registry;
  kernels::register_reference_kernels(registry);
  kernels::ThreadPool pool(1);
  bool changed = false;
  for (Node* node : graph.nodes()) {  // topological order: folded outputs feed later nodes
    if (!is_foldable(*node, registry)) continue;
    kernels::KernelContext ctx{*node, graph.opset(""), {}, {}, pool, nullptr, {}};
    for (const Value* in : node->inputs()) ctx.inputs.push_back(in ? in->initializer() : nullptr);
    ctx.outputs.resize(node->outputs().size());
    registry.find(node->op_type())(ctx);
    const std::vector<Value*> outputs = node->outputs();
    graph.remove_node(node);
    for (size_t i = 0; i < outputs.size(); ++i) graph.set_initializer(outputs[i], std::move(ctx.outputs[i]));
    changed = true;
  }
  if (changed) graph.remove_unused_values();
  return changed;
}

}  // namespace lq::passes
