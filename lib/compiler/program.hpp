// The inside of a Program: tensors with their arena offsets, and instructions naming
// an integer kernel's descriptor (kernels/integer/registry.hpp) with its parameters, or a CPU op.
// The compiler builds it, program_io.cpp reads and writes it, the fixed Simulator runs it.
#pragma once

#include <any>
#include <memory>
#include <string>
#include <vector>

#include "kernels/integer/registry.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"

namespace lq::compiler {

constexpr int64_t kArenaAlignment = 64;

struct ProgramTensor {
  ProgramTensorInfo info;
  bool constant = false;
  Tensor data;          // constants: the stored (integer or float) values
  int64_t offset = -1;  // non-constants: byte offset in the arena
  bool is_input = false;
  bool is_output = false;

  int64_t bytes() const { return shape_numel(info.shape) * static_cast<int64_t>(dtype_size(info.dtype)); }
};

// A one-node float graph: inputs are the instruction's inputs (by name), constants are
// its initializers (fake-quantized where the QuantizedGraph quantizes them). Not an integer
// kernel: the fixed Simulator runs it with the float Simulator (dequantize, float op,
// quantize); its .lqm kernel code is kCpuKernelCode.
struct CpuOp {
  std::shared_ptr<const Graph> graph;
  std::string reason;
};

using integer::kCpuKernelCode;  // program.proto's KERNEL_CPU
constexpr const char* kCpuKernelName = "CPU";

struct Instruction {
  // The integer kernel, or null for a CPU instruction.
  const integer::IntegerKernel* kernel = nullptr;
  std::string node;     // source node name
  std::string op_type;  // source op type
  std::vector<int> inputs;   // tensor indices; -1 for an absent optional input
  std::vector<int> outputs;  // tensor indices
  std::any params;           // the kernel's params struct, or a CpuOp
  int64_t macs = 0;

  bool is_cpu() const { return kernel == nullptr; }
  const char* kernel_name() const { return kernel ? kernel->name().c_str() : kCpuKernelName; }
  // The parameters as P; throws std::bad_any_cast when they are not.
  template <class P>
  const P& params_as() const { return std::any_cast<const P&>(params); }
  template <class P>
  P& params_as() { return std::any_cast<P&>(params); }
};

struct ProgramData {
  std::string name;
  std::string target;
  std::vector<ProgramTensor> tensors;
  std::vector<Instruction> instructions;
  std::vector<int> inputs;   // model inputs, in the graph's order
  std::vector<int> outputs;  // model outputs
  int64_t arena_bytes = 0;
  std::string estimate_json;  // the Compiler's cost plan (estimate_program); not in the .lqm
};

// Program::parse with the kernels of `registry` (tests add kernels of their own).
Program parse_program(const void* data, size_t size, const std::string& context,
                      const integer::KernelRegistry& registry);

// Assigns every non-constant tensor an arena offset (lifetime reuse, greedy by size) and
// sets data.arena_bytes. Inputs live from the start, outputs to the end.
void plan_memory(ProgramData& data);

// Throws kFailedPrecondition naming the first integer instruction whose requantization is
// not a pure rounding shift (every Multiplier's mantissa 2^30 or 0) on a power-of-two target.
void require_power_of_two_requantization(const ProgramData& data, const Target& target);

}  // namespace lq::compiler
