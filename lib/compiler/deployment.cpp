// Deployment check before calibration: the graph quantized with nominal parameters and
// compiled, so that the Compiler's own lowering rules (and the Target's op constraints
// they consult) say where each node runs. No rule is repeated here.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

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
  const Program program = compile_nominal(graph, options, config);
  kernels::KernelRegistry floats;
  kernels::register_reference_kernels(floats);
  std::map<std::string, const compiler::Instruction*> first;  // node -> its first instruction
  std::map<std::string, std::string> written_by;              // tensor name -> node
  for (const compiler::Instruction& ins : program.data().instructions) first.emplace(ins.node, &ins);
  DeploymentCheck out;
  out.target = options.target.name();
  for (const Node* node : graph.nodes()) {
    NodePlacement p;
    p.node = node->name();
    p.op_type = node->op_type();
    auto it = first.find(node->name());
    if (it == first.end()) {
      p.placement = Placement::kNpu;
      p.reason = "no instruction of its own (folded at compile time, fused into its producer, or part of "
                 "a lookup table)";
    } else if (!it->second->is_cpu()) {
      p.placement = Placement::kNpu;
      p.reason = fmt::format("integer kernel {}", it->second->kernel_name());
    } else {
      const std::string& why = it->second->params_as<compiler::CpuOp>().reason;
      const bool runs = node->domain().empty() && floats.find(node->op_type());
      p.placement = runs ? Placement::kCpu : Placement::kUnsupported;
      p.reason = runs ? why
                      : fmt::format("{}; and libquant has no float kernel for {}{} either", why,
                                    node->domain().empty() ? "" : node->domain() + ".", node->op_type());
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
