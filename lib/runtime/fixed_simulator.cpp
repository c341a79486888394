// The fixed-point Simulator: runs a Program's instructions in order with the integer
// kernels, every activation in one arena at the offset the memory plan gave it. Each
// kernel's result is copied into its slot, so a wrong plan (two live tensors sharing
// bytes) changes the outputs, which the bit-exactness tests would see.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "compiler/program.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"

namespace lq {

namespace {

using compiler::Instruction;
using compiler::ProgramTensor;

// One run's arena; tensors are views into it. The bytes belong to the FixedSimulator and
// are reused from run to run (a fresh arena of det's size costs a page fault per 4 KiB):
// every activation is stored before it is read, so what a previous run left is never seen.
class Arena {
 public:
  Arena(const compiler::ProgramData& data, std::vector<uint8_t>& bytes) : data_(data), bytes_(bytes) {
    bytes_.resize(static_cast<size_t>(data.arena_bytes) + 1);
  }

  Tensor view(int id) {
    const ProgramTensor& t = data_.tensors[static_cast<size_t>(id)];
    if (t.constant) return t.data;
    return Tensor::borrow(t.info.dtype, t.info.shape, bytes_.data() + t.offset);
  }

  // Copies `value` into tensor `id`'s slot (same dtype and element count). `context()`
  // names the writer, and is only called for an error.
  template <typename Context>
  void store(int id, const Tensor& value, const Context& context) {
    const ProgramTensor& t = data_.tensors[static_cast<size_t>(id)];
    if (value.dtype() != t.info.dtype || value.numel() != shape_numel(t.info.shape)) {
      throw Error(StatusCode::kInternal,
                  fmt::format("{}: produced {}{} for \"{}\", the program expects {}{}", context(),
                              dtype_name(value.dtype()), shape_str(value.shape()), t.info.name,
                              dtype_name(t.info.dtype), shape_str(t.info.shape)));
    }
    if (value.nbytes() > 0) std::memcpy(bytes_.data() + t.offset, value.raw(), value.nbytes());
  }

 private:
  const compiler::ProgramData& data_;
  std::vector<uint8_t>& bytes_;
};

}  // namespace

struct FixedSimulator::Impl {
  Program program;
  const compiler::ProgramData* data = nullptr;
  mutable kernels::ThreadPool pool;
  std::vector<std::unique_ptr<Simulator>> cpu;  // per instruction; null for integer ones
  mutable std::mutex run_mutex;                 // the pool serves one run at a time
  mutable std::vector<uint8_t> arena_bytes;     // the arena, under run_mutex

  Impl(Program p, int threads) : program(std::move(p)), data(&program.data()), pool(threads) {
    for (const Instruction& ins : data->instructions) {
      // Checked once here, so that a step's any_cast cannot fail.
      if (!ins.is_cpu() && !ins.kernel->holds_params(ins.params)) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("{} node \"{}\": the {} kernel carries parameters of another kernel", ins.op_type,
                                ins.node, ins.kernel->name()));
      }
      cpu.push_back(ins.is_cpu() ? std::make_unique<Simulator>(*ins.params_as<compiler::CpuOp>().graph) : nullptr);
    }
  }

  std::vector<Tensor> execute(size_t step, Arena& arena) const {
    const Instruction& ins = data->instructions[step];
    std::vector<Tensor> in;
    for (int id : ins.inputs) in.push_back(id < 0 ? Tensor() : arena.view(id));
    if (ins.is_cpu()) return run_cpu(step, in);
    return ins.kernel->run(integer::KernelArgs{in, &pool}, ins.params);
  }

  // Dequantize, run the float op, quantize again.
  std::vector<Tensor> run_cpu(size_t step, const std::vector<Tensor>& in) const {
    const Instruction& ins = data->instructions[step];
    TensorMap feeds;
    for (size_t i = 0; i < ins.inputs.size(); ++i) {
      const ProgramTensorInfo& info = data->tensors[static_cast<size_t>(ins.inputs[i])].info;
      feeds[info.name] = info.quantized ? dequantize_tensor(in[i], info.quant) : in[i];
    }
    const TensorMap got = cpu[step]->run(feeds);
    std::vector<Tensor> out;
    for (int id : ins.outputs) {
      const ProgramTensorInfo& info = data->tensors[static_cast<size_t>(id)].info;
      const Tensor& value = got.at(info.name);
      out.push_back(info.quantized ? quantize_tensor(value, info.quant) : value);
    }
    return out;
  }

  void load_inputs(const TensorMap& inputs, Arena& arena) const {
    std::vector<std::string> names;
    for (int id : data->inputs) names.push_back(data->tensors[static_cast<size_t>(id)].info.name);
    for (const auto& [name, value] : inputs) {
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("\"{}\" is not an input of the program (inputs: {})", name,
                                fmt::join(names, ", ")));
      }
    }
    for (int id : data->inputs) {
      const ProgramTensorInfo& info = data->tensors[static_cast<size_t>(id)].info;
      auto it = inputs.find(info.name);
      if (it == inputs.end()) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("program input \"{}\" ({}{}) was not given", info.name,
                                dtype_name(info.dtype), shape_str(info.shape)));
      }
      const Tensor& value = it->second;
      if (value.shape() != info.shape) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("input \"{}\" has shape {}, the program was compiled for {}",
                                info.name, shape_str(value.shape()), shape_str(info.shape)));
      }
      if (info.quantized && value.dtype() == DType::kFloat32) {
        arena.store(id, quantize_tensor(value, info.quant), [] { return "quantizing the input"; });
      } else if (info.quantized && value.dtype() == DType::kUInt8 && info.dtype != DType::kUInt8) {
        // Raw pixels (an input format folded in: fuse_input_format): quantized as their values.
        Tensor as_float(DType::kFloat32, value.shape());
        std::copy(value.data<uint8_t>(), value.data<uint8_t>() + value.numel(), as_float.data<float>());
        arena.store(id, quantize_tensor(as_float, info.quant), [] { return "quantizing the input"; });
      } else if (value.dtype() == info.dtype) {
        arena.store(id, value, [] { return "input"; });
      } else {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("input \"{}\" has dtype {}, expected {}{}", info.name,
                                dtype_name(value.dtype()), dtype_name(info.dtype),
                                info.quantized ? " or float32 (or uint8 pixels)" : ""));
      }
    }
  }
};

FixedSimulator::FixedSimulator(Program program, FixedSimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(program), std::max(1, options.threads))) {}
FixedSimulator::~FixedSimulator() = default;
FixedSimulator::FixedSimulator(FixedSimulator&&) noexcept = default;
FixedSimulator& FixedSimulator::operator=(FixedSimulator&&) noexcept = default;

const Program& FixedSimulator::program() const { return impl_->program; }
int FixedSimulator::threads() const { return impl_->pool.size(); }

TensorMap FixedSimulator::run(const TensorMap& inputs, const ProgramObserver& observer) const {
  const compiler::ProgramData& data = *impl_->data;
  std::lock_guard<std::mutex> lock(impl_->run_mutex);
  Arena arena(data, impl_->arena_bytes);
  impl_->load_inputs(inputs, arena);
  for (size_t step = 0; step < data.instructions.size(); ++step) {
    const Instruction& ins = data.instructions[step];
    // Formatted only for an error: this loop is the program's hot path.
    const auto context = [&ins] {
      return fmt::format("{} node \"{}\" ({} kernel)", ins.op_type, ins.node,
                         ins.kernel_name());
    };
    std::vector<Tensor> results;
    try {
      results = impl_->execute(step, arena);
    } catch (const Error& e) {
      throw Error(e.code(), context() + ": " + e.what());
    }
    for (size_t k = 0; k < ins.outputs.size(); ++k) {
      arena.store(ins.outputs[k], results.at(k), context);
      if (observer) {
        observer(data.tensors[static_cast<size_t>(ins.outputs[k])].info, arena.view(ins.outputs[k]));
      }
    }
  }
  TensorMap outputs;
  for (int id : data.outputs) {
    outputs[data.tensors[static_cast<size_t>(id)].info.name] = arena.view(id).clone();
  }
  return outputs;
}

TensorMap FixedSimulator::run_float(const TensorMap& inputs, const ProgramObserver& observer) const {
  TensorMap outputs = run(inputs, observer);
  for (int id : impl_->data->outputs) {
    const ProgramTensorInfo& info = impl_->data->tensors[static_cast<size_t>(id)].info;
    if (info.quantized) outputs[info.name] = dequantize_tensor(outputs[info.name], info.quant);
  }
  return outputs;
}

}  // namespace lq
