#include "libquant/simulator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "graph/nearest_name.hpp"
#include "kernels/buffer_pool.hpp"
#include "kernels/float/kernel.hpp"

namespace lq {

namespace {

bool is_default_domain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

// Checks a caller's tensor against the declared type of a graph input.
void check_input(const Value& input, const Tensor& tensor) {
  const TensorType& type = input.type();
  if (type.dtype != DType::kUndefined && tensor.dtype() != type.dtype) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\": got dtype {}, the model expects {}", input.name(),
                            dtype_name(tensor.dtype()), dtype_name(type.dtype)));
  }
  if (!type.has_shape) return;
  bool ok = tensor.rank() == type.dims.size();
  for (size_t i = 0; ok && i < type.dims.size(); ++i) {
    ok = !type.dims[i].known() || type.dims[i].value == tensor.dim(i);
  }
  if (!ok) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\": got shape {}, the model expects {}", input.name(),
                            shape_str(tensor.shape()), type.str()));
  }
}

}  // namespace

struct Simulator::Impl {
  struct Step {
    const Node* node;
    kernels::KernelFn kernel;
    std::vector<int> inputs;   // slot per input, -1 if absent
    std::vector<int> outputs;  // slot per output
    std::vector<int> release;  // slots last used by this step
  };

  Impl(const Graph& g, SimulatorOptions opts)
      : graph(g), options(opts), pool(std::max(1, opts.threads)) {}

  int slot_of(const Value* v) {
    auto it = slots.find(v);
    if (it != slots.end()) return it->second;
    const int slot = static_cast<int>(slots.size());
    slots[v] = slot;
    return slot;
  }

  const Graph& graph;
  SimulatorOptions options;
  kernels::KernelRegistry registry;
  mutable kernels::ThreadPool pool;
  std::shared_ptr<kernels::BufferPool> buffers = std::make_shared<kernels::BufferPool>();
  mutable std::mutex run_mutex;  // the pool serves one run at a time
  std::unordered_map<const Value*, int> slots;
  std::vector<Step> steps;
  std::vector<std::pair<int, Tensor>> constants;
  std::vector<std::pair<int, const Value*>> inputs;
  std::vector<std::pair<int, const Value*>> outputs;
};

Simulator::Simulator(const Graph& graph, SimulatorOptions options)
    : impl_(std::make_unique<Impl>(graph, options)) {
  Impl& s = *impl_;
  kernels::register_reference_kernels(s.registry);
  if (!options.reference_only) kernels::register_optimized_kernels(s.registry);

  for (Value* v : graph.initializers()) {
    const Tensor& data = *v->initializer();
    s.constants.emplace_back(s.slot_of(v), options.transform ? options.transform(*v, data) : data);
  }
  for (Value* v : graph.inputs()) {
    if (!v->is_constant()) s.inputs.emplace_back(s.slot_of(v), v);
  }
  std::unordered_map<int, size_t> last_use;
  for (const Node* node : graph.nodes()) {
    kernels::KernelFn fn = is_default_domain(node->domain()) ? s.registry.find(node->op_type()) : nullptr;
    if (!fn) {
      const std::string op = node->domain().empty() ? node->op_type() : node->domain() + "." + node->op_type();
      throw Error(StatusCode::kUnsupported,
                  fmt::format("{}: op {} is not supported by the float Simulator; the nearest "
                              "supported op is {} (rewrite the node or cut the graph before it)",
                              node->describe(), op, nearest_name(node->op_type(), s.registry.ops())));
    }
    Impl::Step step{node, fn, {}, {}, {}};
    for (const Value* in : node->inputs()) {
      step.inputs.push_back(in ? s.slot_of(in) : -1);
      if (in) last_use[step.inputs.back()] = s.steps.size();
    }
    for (const Value* out : node->outputs()) {
      step.outputs.push_back(s.slot_of(out));
      last_use.emplace(step.outputs.back(), s.steps.size());  // unused outputs go at once
    }
    s.steps.push_back(std::move(step));
  }
  for (Value* v : graph.outputs()) {
    const int slot = s.slot_of(v);
    s.outputs.emplace_back(slot, v);
    last_use[slot] = SIZE_MAX;  // graph outputs are never released
  }
  for (const auto& entry : s.constants) last_use[entry.first] = SIZE_MAX;
  for (const auto& [slot, step] : last_use) {
    if (step != SIZE_MAX) s.steps[step].release.push_back(slot);
  }
}

Simulator::~Simulator() = default;
Simulator::Simulator(Simulator&&) noexcept = default;
Simulator& Simulator::operator=(Simulator&&) noexcept = default;

const Graph& Simulator::graph() const { return impl_->graph; }
int Simulator::threads() const { return impl_->pool.size(); }

TensorMap Simulator::run(const TensorMap& inputs, const ValueObserver& observer) const {
  const Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.run_mutex);
  std::vector<Tensor> slots(s.slots.size());
  std::vector<bool> ready(s.slots.size(), false);
  for (const auto& [slot, tensor] : s.constants) {
    slots[static_cast<size_t>(slot)] = tensor;
    ready[static_cast<size_t>(slot)] = true;
  }
  for (const auto& [slot, value] : s.inputs) {
    auto it = inputs.find(value->name());
    if (it == inputs.end()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("input \"{}\" ({}) was not given; pass it by that name",
                              value->name(), value->type().str()));
    }
    check_input(*value, it->second);
    slots[static_cast<size_t>(slot)] =
        s.options.transform ? s.options.transform(*value, it->second) : it->second;
    ready[static_cast<size_t>(slot)] = true;
  }
  for (const auto& [name, tensor] : inputs) {
    const Value* v = s.graph.find_value(name);
    if (!v || !v->is_graph_input()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("\"{}\" is not an input of the model", name));
    }
  }
  const int64_t opset = s.graph.opset("") > 0 ? s.graph.opset("") : s.graph.opset("ai.onnx");
  for (const auto& step : s.steps) {
    kernels::KernelContext ctx{*step.node, opset, {}, {}, s.pool, s.buffers.get(), s.options.limits};
    ctx.inputs.reserve(step.inputs.size());
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int slot = step.inputs[i];
      if (slot >= 0 && !ready[static_cast<size_t>(slot)]) {
        throw Error(StatusCode::kInvalidModel,
                    fmt::format("{} (input {}): value \"{}\" has no data (undefined in the graph)",
                                step.node->describe(), i, step.node->input(i)->name()));
      }
      ctx.inputs.push_back(slot >= 0 ? &slots[static_cast<size_t>(slot)] : nullptr);
    }
    ctx.outputs.resize(step.outputs.size());
    step.kernel(ctx);
    for (size_t i = 0; i < step.outputs.size(); ++i) {
      if (ctx.outputs[i].empty()) {
        throw Error(StatusCode::kInternal,
                    fmt::format("{}: kernel produced no output {}", step.node->describe(), i));
      }
      const size_t slot = static_cast<size_t>(step.outputs[i]);
      slots[slot] = s.options.transform ? s.options.transform(*step.node->output(i), ctx.outputs[i])
                                        : std::move(ctx.outputs[i]);
      ready[slot] = true;
      if (observer) observer(*step.node->output(i), slots[slot]);
    }
    for (int slot : step.release) slots[static_cast<size_t>(slot)] = Tensor();
  }
  TensorMap result;
  for (const auto& [slot, value] : s.outputs) {
    if (!ready[static_cast<size_t>(slot)]) {
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("graph output \"{}\" is never produced", value->name()));
    }
    result[value->name()] = slots[static_cast<size_t>(slot)];
  }
  return result;
}

std::vector<std::string> supported_ops() {
  kernels::KernelRegistry registry;
  kernels::register_reference_kernels(registry);
  return registry.ops();
}

}  // namespace lq
