// The inside of a Program: tensors with their arena offsets, and instructions whose
// parameters are the integer kernels' own structs (kernels/integer/integer_kernels.hpp).
// The compiler builds it, program_io.cpp reads and writes it, the fixed Simulator runs it.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "kernels/integer/integer_kernels.hpp"
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

enum class Kernel : uint8_t {
  kConv,
  kGemm,
  kMatMul,
  kAdd,  // also Sub (AddParams::subtract)
  kMul,
  kConcat,
  kRescale,  // requantization with clamps: Relu / Clip on int16, Identity to new parameters
  kMaxPool,
  kAveragePool,
  kGlobalAveragePool,
  kGather,  // separable data movement: Reshape, Transpose, Slice, Pad, Resize (nearest), ...
  kLookup,  // unary functions of an 8-bit input
  kSoftmax,
  kCpu,     // dequantize, float op, quantize
  kConvTranspose,
  kDiv,  // two integer operands
};

const char* kernel_name(Kernel kernel);

struct RescaleOp {
  integer::Rescale rescale;
  integer::OutputSpec output;
};

// out[j0, ..., jr] = in.flat[offsets[0][j0] + ... + offsets[r][jr]], or the fill code
// where an offset is integer::detail::kFill (Pad's constant).
struct GatherOp {
  std::vector<std::vector<int64_t>> offsets;
  int32_t fill = 0;
};

// A one-node float graph: inputs are the instruction's inputs (by name), constants are
// its initializers (fake-quantized where the QuantizedGraph quantizes them).
struct CpuOp {
  std::shared_ptr<const Graph> graph;
  std::string reason;
};

using KernelParams =
    std::variant<integer::ConvParams, integer::GemmParams, integer::LinearQuant, integer::AddParams,
                 integer::MulParams, integer::ConcatParams, RescaleOp, integer::PoolWindow,
                 integer::AveragePoolParams, GatherOp, integer::LookupTable,
                 integer::SoftmaxParams, CpuOp, integer::ConvTransposeParams>;

struct Instruction {
  Kernel kernel = Kernel::kCpu;
  std::string node;     // source node name
  std::string op_type;  // source op type
  std::vector<int> inputs;   // tensor indices; -1 for an absent optional input
  std::vector<int> outputs;  // tensor indices
  KernelParams params;
  int64_t macs = 0;
};

struct ProgramData {
  std::string name;
  std::string target;
  std::vector<ProgramTensor> tensors;
  std::vector<Instruction> instructions;
  std::vector<int> inputs;   // model inputs, in the graph's order
  std::vector<int> outputs;  // model outputs
  int64_t arena_bytes = 0;
};

// Assigns every non-constant tensor an arena offset (lifetime reuse, greedy by size) and
// sets data.arena_bytes. Inputs live from the start, outputs to the end.
void plan_memory(ProgramData& data);

}  // namespace lq::compiler
