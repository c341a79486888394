// Deployment check before calibration: the graph quantized with nominal parameters and
// compiled, so that the Compiler's own lowering rules (and the Target's op constraints
// they consult) say where each node runs. No rule is repeated here.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "compiler/program.hpp"
#include "kernels/float/kernel.hpp"

namespace lq {

const char* placement_name(Placement p) {
  switch (p) {
    case Placement::kNpu: return "NPU";
    case Placement::kCpu: return "CPU";
    case Placement::kUnsupported: return "unsupported";
  }
  return "?";
}

Program compile_nominal(const Graph& graph, const CompileOptions& options, const QuantConfig& config) {
  CalibrationTable table;
  table.samples = 1;
  auto nominal = [&](const Value* v) {
    if (!v || v->is_constant()) return;
    TensorStats& s = table.tensors[v->name()];
    s.min = -1.0;
    s.max = 1.0;
    s.count = 1;
  };
  for (const Value* in : graph.inputs()) nominal(in);
  for (const Node* node : graph.nodes()) {
    for (const Value* out : node->outputs()) nominal(out);
  }
  QuantConfig c = config;
  if (!c.model.method || *c.model.method == RangeMethod::kAuto) c.model.method = RangeMethod::kMax;
  c.int16_budget = 0.0;
  for (auto& [op, spec] : c.op_types) spec.method.reset();
  for (auto& [node, spec] : c.nodes) spec.method.reset();
  const QuantizedGraph q = Quantizer(c, options.target).quantize(graph, table);
  return Compiler(options).compile(q);
}

DeploymentCheck check_deployment(const Graph& graph, const CompileOptions& options, const QuantConfig& config) {
  kernels::KernelRegistry floats;
  kernels::register_reference_kernels(floats);
  // Nodes no kernel runs (not even the float Simulator) and the nodes after them: the part
  // before them is compiled, the nodes after are placed by the target's op rules alone.
  std::set<const Node*> no_kernel, after;
  std::set<const Value*> tainted;
  for (const Node* node : graph.nodes()) {
    const bool none = !node->domain().empty() || !floats.find(node->op_type());
    bool reads_tainted = false;
    for (const Value* in : node->inputs()) reads_tainted = reads_tainted || (in && tainted.count(in));
    if (none) no_kernel.insert(node);
    else if (reads_tainted) after.insert(node);
    if (none || reads_tainted) {
      for (const Value* out : node->outputs()) tainted.insert(out);
    }
  }
  Graph compiled = graph.clone();
  if (!tainted.empty()) {
    std::vector<std::string> outputs;
    auto keep = [&](const Value* v) {
      if (v && !v->is_constant() && !tainted.count(v) &&
          std::find(outputs.begin(), outputs.end(), v->name()) == outputs.end()) {
        outputs.push_back(v->name());
      }
    };
    for (const Value* out : graph.outputs()) keep(out);
    for (const Node* node : graph.nodes()) {
      if (!no_kernel.count(node) && !after.count(node)) continue;
      for (const Value* in : node->inputs()) keep(in);
    }
    cut_outputs(compiled, outputs);
  }
  std::map<std::string, std::pair<bool, std::string>> lowered;  // node -> (on CPU, reason)
  if (!compiled.outputs().empty() && compiled.num_nodes() > 0) {
    const Program program = compile_nominal(compiled, options, config);
    for (const compiler::Instruction& ins : program.data().instructions) {
      if (lowered.count(ins.node)) continue;
      lowered[ins.node] = ins.is_cpu() ? std::make_pair(true, ins.params_as<compiler::CpuOp>().reason)
                                       : std::make_pair(false, fmt::format("integer kernel {}", ins.kernel_name()));
    }
  }
  DeploymentCheck out;
  out.target = options.target.name();
  for (const Node* node : graph.nodes()) {
    NodePlacement p;
    p.node = node->name();
    p.op_type = node->op_type();
    if (no_kernel.count(node)) {
      const std::string why = options.target.cpu_reason(*node);
      p.placement = Placement::kUnsupported;
      p.reason = fmt::format("{}no integer lowering and no float kernel for {}{}", why.empty() ? "" : why + "; ",
                             node->domain().empty() ? "" : node->domain() + ".", node->op_type());
    } else if (after.count(node)) {
      const std::string why = options.target.cpu_reason(*node);
      p.placement = why.empty() ? Placement::kNpu : Placement::kCpu;
      p.reason = (why.empty() ? std::string("the target's op rules allow it") : why) +
                 " (not compiled: it reads the output of an unsupported node)";
    } else if (auto it = lowered.find(node->name()); it != lowered.end()) {
      p.placement = it->second.first ? Placement::kCpu : Placement::kNpu;
      p.reason = it->second.second;
    } else {
      p.placement = Placement::kNpu;
      p.reason = "no instruction of its own (folded at compile time, fused into its producer, or part of "
                 "a lookup table)";
    }
    (p.placement == Placement::kNpu ? out.npu : p.placement == Placement::kCpu ? out.cpu : out.unsupported) += 1;
    out.nodes.push_back(std::move(p));
  }
  return out;
}

std::string DeploymentCheck::to_json() const {
  nlohmann::json nodes_json = nlohmann::json::array();
  for (const NodePlacement& p : nodes) {
    nodes_json.push_back({{"node", p.node}, {"op_type", p.op_type}, {"placement", placement_name(p.placement)},
                          {"reason", p.reason}});
  }
  nlohmann::json j = {{"target", target}, {"deployable", deployable()}, {"all_on_npu", all_on_npu()},
                      {"npu_nodes", npu}, {"cpu_nodes", cpu}, {"unsupported_nodes", unsupported},
                      {"nodes", nodes_json}};
  return j.dump(2);
}

}  // namespace lq
