// Compiler: specializes the QuantizedGraph's float graph to static shapes, lowers it node
// by node (integer rules first, CPU otherwise), then plans the arena.
#include <fmt/format.h>

#include <algorithm>

#include "compiler/lowering.hpp"
#include "graph/nearest_name.hpp"
#include "passes/passes.hpp"
#include "graph/roles.hpp"

namespace lq {

namespace compiler {

namespace {

bool is_quantized_dtype(DType d) { return d == DType::kInt8 || d == DType::kUInt8 || d == DType::kInt16; }

}  // namespace

Lowering::Lowering(const QuantizedGraph& qgraph, const QuantDecisions& decisions, const Graph& graph,
                   const Target& target)
    : qgraph_(qgraph), decisions_(decisions), graph_(graph), target_(target) {
  kernels::register_reference_kernels(registry_);
  data_.name = graph.name();
  data_.target = target.name();
  for (const Value* in : graph.inputs()) {
    const int id = tensor(in);
    data_.tensors[static_cast<size_t>(id)].is_input = true;
    data_.inputs.push_back(id);
  }
}

const QuantParams* Lowering::params(const Value* v) const {
  return v ? qgraph_.find(v->name()) : nullptr;
}

bool Lowering::allows_int16(const Value* v) const {
  return v->is_constant() ? target_.int16_weights() : target_.int16_activations();
}

bool Lowering::is_integer(const Value* v) const {
  const QuantParams* p = params(v);
  if (!p || p->per_channel() || !is_quantized_dtype(p->dtype)) return false;
  if (p->dtype == DType::kInt16 && !allows_int16(v)) return false;
  const DType stored = v->is_constant() ? v->initializer()->dtype() : v->type().dtype;
  return stored == DType::kFloat32;
}

std::string Lowering::not_integer_reason(const Value* v) const {
  const QuantParams* p = params(v);
  if (!p) return fmt::format("\"{}\" is not quantized", v->name());
  if (p->dtype == DType::kInt16 && !allows_int16(v)) {
    return fmt::format("\"{}\" is int16 and target \"{}\" has no int16", v->name(), target_.name());
  }
  if (p->per_channel()) return fmt::format("\"{}\" is quantized per channel", v->name());
  return fmt::format("\"{}\" is not an 8/16-bit quantized float value", v->name());
}

Shape Lowering::shape(const Value* v) const {
  if (v->is_constant()) return v->initializer()->shape();
  if (!v->type().is_static()) {
    throw Error(StatusCode::kInvalidModel,
                fmt::format("value \"{}\" has no static shape ({}) after shape propagation",
                            v->name(), v->type().str()));
  }
  return v->type().static_shape();
}

int Lowering::tensor(const Value* v) {
  auto it = ids_.find(v->name());
  if (it != ids_.end()) return it->second;
  ProgramTensor t;
  t.info.name = v->name();
  t.info.shape = shape(v);
  const QuantParams* p = params(v);
  if (v->is_constant()) {
    t.constant = true;
    const Tensor& data = *v->initializer();
    if (p && data.dtype() == DType::kFloat32) {
      t.info.quantized = true;
      t.info.quant = *p;
      t.data = quantize_tensor(data, *p);
    } else {
      t.data = data;
    }
    t.info.dtype = t.data.dtype();
  } else if (p && !p->per_channel() && is_quantized_dtype(p->dtype) &&
             v->type().dtype == DType::kFloat32) {
    // Stored as codes even when the target runs its ops on the CPU (int16 on the int8
    // target): CPU nodes dequantize and quantize again, as fake quantization does.
    t.info.quantized = true;
    t.info.quant = *p;
    t.info.dtype = p->dtype;
  } else {
    t.info.dtype = v->type().dtype;
    if (p && t.info.dtype == DType::kFloat32 && p->per_channel()) {
      throw Error(StatusCode::kUnsupported,
                  fmt::format("value \"{}\" has per-channel activation parameters (axis {}): the "
                              "compiler quantizes activations per tensor",
                              v->name(), p->axis));
    }
  }
  t.is_output = v->is_graph_output();
  const int id = static_cast<int>(data_.tensors.size());
  data_.tensors.push_back(std::move(t));
  ids_[v->name()] = id;
  return id;
}

int Lowering::constant(const std::string& name, Tensor data) {
  ProgramTensor t;
  t.info.name = name;
  t.info.shape = data.shape();
  t.info.dtype = data.dtype();
  t.constant = true;
  t.data = std::move(data);
  data_.tensors.push_back(std::move(t));
  return static_cast<int>(data_.tensors.size()) - 1;
}

int Lowering::temporary(const std::string& name, const Shape& shape, const QuantParams& quant) {
  ProgramTensor t;
  t.info.name = name;
  t.info.shape = shape;
  t.info.dtype = quant.dtype;
  t.info.quantized = true;
  t.info.quant = quant;
  data_.tensors.push_back(std::move(t));
  return static_cast<int>(data_.tensors.size()) - 1;
}

void Lowering::emit(const integer::IntegerKernel& kernel, const Node& node, std::vector<int> inputs,
                    std::vector<int> outputs, std::any params, int64_t macs) {
  if (!kernel.holds_params(params)) {
    throw Error(StatusCode::kInternal,
                fmt::format("{}: the {} kernel was given parameters of another type", node.describe(), kernel.name()));
  }
  Instruction ins;
  ins.kernel = &kernel;
  ins.node = node.name();
  ins.op_type = node.op_type();
  ins.inputs = std::move(inputs);
  ins.outputs = std::move(outputs);
  ins.params = std::move(params);
  ins.macs = macs;
  data_.instructions.push_back(std::move(ins));
}

kernels::KernelContext Lowering::context(const Node& node) const {
  return kernels::KernelContext{node, graph_.opset(""), {}, {}, pool_, nullptr, {}};
}

std::vector<Tensor> Lowering::evaluate(const Node& node,
                                       const std::vector<const Tensor*>& inputs) const {
  const kernels::KernelFn fn = registry_.find(node.op_type());
  if (!fn || !node.domain().empty()) {
    throw Error(StatusCode::kUnsupported, node.describe() + ": no float kernel to evaluate");
  }
  kernels::KernelContext ctx = context(node);
  ctx.inputs = inputs;
  ctx.outputs.resize(node.outputs().size());
  fn(ctx);
  return std::move(ctx.outputs);
}

const Tensor* Lowering::folded_constant(const Node& node, size_t i) {
  const Value* v = node.input(i);
  if (!v || !v->is_constant()) return nullptr;
  const QuantParams* p = params(v);
  if (!p || v->initializer()->dtype() != DType::kFloat32) return v->initializer();
  auto it = folded_.find(v->name());
  if (it == folded_.end()) it = folded_.emplace(v->name(), fake_quantize(*v->initializer(), *p)).first;
  return &it->second;
}

bool Lowering::same_params(int a, int b) const {
  const ProgramTensorInfo& x = tensor_at(a).info;
  const ProgramTensorInfo& y = tensor_at(b).info;
  return x.quantized && y.quantized && x.dtype == y.dtype && x.quant.scale == y.quant.scale &&
         x.quant.zero_point == y.quant.zero_point;
}

void Lowering::emit_rescale(const Node& node, int from, int to, const integer::OutputSpec& output) {
  integer::RescaleOp op;
  op.rescale = make_rescale(tensor_at(from).info.quant, tensor_at(to).info.quant);
  op.output = output;
  emit(integer::rescale_kernel(), node, {from}, {to}, op);
}

void Lowering::lower_cpu(const Node& node, const std::string& reason) {
  auto graph = std::make_shared<Graph>();
  graph->set_name(node.name());
  for (const auto& [domain, version] : graph_.opsets()) graph->set_opset(domain, version);
  std::vector<Value*> inputs;
  std::vector<int> ids;
  for (size_t i = 0; i < node.inputs().size(); ++i) {
    const Value* v = node.input(i);
    if (!v) {
      inputs.push_back(nullptr);
      continue;
    }
    Value* local = graph->find_value(v->name());
    if (!local) {
      local = graph->add_value(v->name());
      if (v->is_constant()) {
        graph->set_initializer(local, *folded_constant(node, i));
      } else {
        const int id = tensor(v);
        const ProgramTensorInfo& info = tensor_at(id).info;
        local->type().dtype = info.quantized ? DType::kFloat32 : info.dtype;
        local->type().has_shape = true;
        for (int64_t d : info.shape) local->type().dims.push_back(Dim{d, ""});
        graph->add_input(local);
        ids.push_back(id);
      }
    }
    inputs.push_back(local);
  }
  std::vector<Value*> outputs;
  std::vector<int> out_ids;
  for (const Value* o : node.outputs()) {
    Value* local = graph->add_value(o->name());
    graph->add_output(local);
    outputs.push_back(local);
    out_ids.push_back(tensor(o));
  }
  Node* copy = graph->add_node(node.op_type(), inputs, outputs, node.name(), node.domain());
  for (const auto& [name, attr] : node.attributes()) copy->set_attr(name, attr);
  Instruction ins;
  ins.node = node.name();
  ins.op_type = node.op_type();
  ins.inputs = std::move(ids);
  ins.outputs = std::move(out_ids);
  ins.params = CpuOp{graph, reason};
  data_.instructions.push_back(std::move(ins));
}

const Value* Lowering::deferred_root(const Value* v) const {
  auto it = deferred_.find(v);
  return it == deferred_.end() ? nullptr : it->second;
}

const Node* Lowering::fused_activation(const Value* v) const {
  auto it = decisions_.fusions.find(v->name());
  const Value* out = it == decisions_.fusions.end() ? nullptr : graph_.find_value(it->second);
  return out ? out->producer() : nullptr;
}

// An inner node of an elementwise chain (QuantDecisions::chains): the table of the chain's
// end covers it, unless the target keeps it or a reader on the CPU, the root is not an
// integer tensor on this target, or an operand was lowered after all (lower_now: a reader
// that cannot be a table).
bool Lowering::defer(const Node& node) {
  if (node.outputs().size() != 1 || !target_.cpu_reason(node).empty()) return false;
  const Value* out = node.output(0);
  auto chain = decisions_.chains.find(out->name());
  if (chain == decisions_.chains.end()) return false;
  for (const Use& use : out->uses()) {
    if (!target_.cpu_reason(*use.node).empty()) return false;
  }
  const Value* root = graph_.find_value(chain->second);
  if (!root || !is_integer(root)) return false;
  for (const Value* in : node.inputs()) {
    if (in && !in->is_constant() && in != root && deferred_root(in) != root) return false;
  }
  deferred_[out] = root;
  return true;
}

void Lowering::lower(const Node& node) {
  if (fused_.count(node.name()) || defer(node)) return;
  try {
    lower_now(node);
  } catch (const Error& e) {
    // Errors of the integer parameter builders know the numbers, not where they come from.
    const std::string what = e.what();
    if (what.find(node.describe()) != std::string::npos) throw;
    std::string tensors;
    for (const Value* v : node.inputs()) {
      const QuantParams* p = v ? qgraph_.find(v->name()) : nullptr;
      if (p) tensors += fmt::format(" \"{}\" scale {:g};", v->name(), p->scale[0]);
    }
    for (const Value* v : node.outputs()) {
      const QuantParams* p = v ? qgraph_.find(v->name()) : nullptr;
      if (p) tensors += fmt::format(" output \"{}\" scale {:g};", v->name(), p->scale[0]);
    }
    throw Error(e.code(), fmt::format("{}: {} (tensors:{} give the tensors another range in the "
                                      "quant config's /tensors, or keep the node in float with "
                                      "quantize: false)", node.describe(), what, tensors));
  }
}

void Lowering::lower_now(const Node& node) {
  std::string why;
  bool reads_deferred = false;
  for (const Value* in : node.inputs()) reads_deferred = reads_deferred || deferred_root(in);
  if (reads_deferred) {
    if (target_.cpu_reason(node).empty() && lower_lookup(*this, node, why)) return;
    // Not a table after all: lower the deferred operands as the nodes they are.
    for (const Value* in : node.inputs()) {
      if (!deferred_root(in)) continue;
      deferred_.erase(in);
      lower_now(*in->producer());
    }
    if (fused_.count(node.name())) return;
  }
  if (const std::string reason = target_.cpu_reason(node); !reason.empty()) {
    lower_cpu(node, reason);
    return;
  }
  if (const std::string reason = operand_reason(node); !reason.empty()) {
    lower_cpu(node, reason);
    return;
  }
  for (auto rule : {lower_gather, lower_lookup, lower_arithmetic}) {
    if (rule(*this, node, why)) return;
  }
  lower_cpu(node, why.empty() ? fmt::format("no integer kernel for {}", node.op_type()) : why);
}

// The profile's per-op operand widths: activations (non-constant inputs and outputs) and
// weights (constant inputs) at their quantized widths.
std::string Lowering::operand_reason(const Node& node) const {
  int activation_bits = 0;
  int weight_bits = 0;
  auto bits_of = [&](const Value* v) {
    const QuantParams* p = params(v);
    return p ? (p->dtype == DType::kInt16 ? 16 : p->dtype == DType::kInt4 ? 4 : 8) : 0;
  };
  for (const Value* in : node.inputs()) {
    if (!in) continue;
    int& bits = in->is_constant() ? weight_bits : activation_bits;
    if (!in->is_constant() || in == node.input(1)) bits = std::max(bits, bits_of(in));
  }
  for (const Value* out : node.outputs()) activation_bits = std::max(activation_bits, bits_of(out));
  return target_.operand_reason(node, activation_bits, weight_bits);
}

ProgramData Lowering::finish() {
  for (const Value* out : graph_.outputs()) data_.outputs.push_back(tensor(out));
  plan_memory(data_);
  return std::move(data_);
}

namespace {

// Shape-specializes a copy of the graph: fixes the input sizes, records every value's
// shape and folds the shape computations (Shape -> ... -> Reshape) into constants.
Graph specialize(const Graph& source, const std::map<std::string, Shape>& input_shapes) {
  Graph g = source.clone();
  for (const auto& [name, shape] : input_shapes) {
    const Value* v = g.find_value(name);
    if (!v || !v->is_graph_input()) {
      std::vector<std::string> names;
      for (const Value* in : g.inputs()) names.push_back(in->name());
      throw Error(StatusCode::kNotFound,
                  fmt::format("input shape given for \"{}\", which is not a model input (did "
                              "you mean \"{}\"?)",
                              name, nearest_name(name, names)));
    }
  }
  for (const Value* in : g.inputs()) {
    if (!input_shapes.count(in->name()) && !in->type().is_static()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("model input \"{}\" has dynamic shape {}: give its size for the "
                              "program (CompileOptions::input_shapes, lquant --input-shape)",
                              in->name(), in->type().str()));
    }
  }
  propagate_shapes(g, input_shapes);
  kernels::KernelRegistry registry;
  kernels::register_reference_kernels(registry);
  kernels::ThreadPool pool(1);
  for (Node* node : g.nodes()) {
    if (node->op_type() != "Shape" || !node->domain().empty() || !node->input(0)) continue;
    const Value* in = node->input(0);
    if (!in->type().is_static() || node->output(0)->is_graph_output()) continue;
    // Shape reads only the input's dims: a borrowed tensor without data stands in.
    const Tensor shape_only = Tensor::borrow(DType::kFloat32, in->type().static_shape(), nullptr);
    kernels::KernelContext ctx{*node, g.opset(""), {&shape_only}, {}, pool, nullptr, {}};
    ctx.outputs.resize(1);
    registry.find("Shape")(ctx);
    Value* out = node->output(0);
    g.remove_node(node);
    g.set_initializer(out, std::move(ctx.outputs[0]));
  }
  passes::fold_constants(g);  // shape computations, and Constant nodes
  return g;
}

}  // namespace

}  // namespace compiler

Compiler::Compiler(CompileOptions options) : options_(std::move(options)) {}

Program Compiler::compile(const QuantizedGraph& qgraph) const {
  const Graph graph = compiler::specialize(qgraph.graph, options_.input_shapes);
  // A QuantizedGraph built by hand has no decisions: the Quantizer's rules give them.
  const QuantDecisions decisions = qgraph.decisions ? *qgraph.decisions : derive_decisions(graph, qgraph.params);
  compiler::Lowering lowering(qgraph, decisions, graph, options_.target);
  const int64_t node_count = static_cast<int64_t>(graph.num_nodes());
  int64_t lowered = 0;
  for (const Node* node : graph.nodes()) {
    lowering.lower(*node);
    if (options_.progress) options_.progress(++lowered, node_count);
  }
  auto data = std::make_shared<compiler::ProgramData>(lowering.finish());
  if (options_.target.power_of_two_scales()) compiler::require_power_of_two_requantization(*data, options_.target);
  Program program(data);
  data->estimate_json = estimate_program(program, options_.target, options_.mode, options_.balance_factor).to_json();
  return program;
}

}  // namespace lq
