// Compiler: lowers a QuantizedGraph to an integer Program (what an NPU executes), with a
// memory plan, and reads / writes it as a .lqm file. The fixed-point runtime
// (runtime.hpp, FixedSimulator) executes a Program bit for bit.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/target.hpp"
#include "libquant/tensor.hpp"

namespace lq {

namespace compiler {
struct ProgramData;  // lib/compiler/program.hpp
}

// How the Compiler plans each layer on the target's cores (docs/target-profile.md): on one
// core, split by feature map (every core reads all the weights) or by output channels (every
// core reads all the input). kLatency takes the plan with the fewest cycles, kBandwidth the
// least DDR traffic, kBalance the fewest cycles within a balance factor (default 25 %) of
// the least traffic.
enum class CompileMode : uint8_t { kLatency, kBandwidth, kBalance };
LQ_EXPORT const char* compile_mode_name(CompileMode mode);
// "latency", "bandwidth" or "balance"; throws kInvalidArgument naming the choices.
LQ_EXPORT CompileMode parse_compile_mode(const std::string& name);

struct CompileOptions {
  Target target;
  CompileMode mode = CompileMode::kBalance;  // the cost plan written into the summary
  double balance_factor = 0.25;  // kBalance: DDR traffic allowed above the least, as a share
  // Sizes for model inputs with dynamic dimensions: a Program has static shapes.
  std::map<std::string, Shape> input_shapes;
  ProgressCallback progress;  // optional: nodes lowered, of all nodes
};

// A tensor of the Program as seen from outside: name (the float graph's value), storage
// dtype (int8 / uint8 / int16, or float32 for values that stay float) and quantization.
struct ProgramTensorInfo {
  std::string name;
  DType dtype = DType::kInt8;
  Shape shape;
  bool quantized = false;  // false: a float32 value (only CPU nodes read or write it)
  QuantParams quant;       // when quantized: real = scale × (q − zero_point)
};

// One instruction, for reports (hb_compile's node_info).
struct LayerInfo {
  std::string node;      // the float graph's node name
  std::string op_type;   // the ONNX op it came from
  std::string kernel;    // the integer kernel ("Conv", "Lookup", "Gather", ...) or "CPU"
  std::string cpu_reason;  // why it runs on CPU, empty for integer instructions
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  int64_t macs = 0;  // multiply-accumulates of Conv / Gemm / MatMul
};

class LQ_EXPORT Program {
 public:
  Program();  // an empty program (no instructions)
  explicit Program(std::shared_ptr<const compiler::ProgramData> data);

  std::vector<ProgramTensorInfo> inputs() const;
  std::vector<ProgramTensorInfo> outputs() const;
  std::vector<LayerInfo> layers() const;
  int64_t instruction_count() const;
  int64_t cpu_instruction_count() const;  // layers() whose kernel is "CPU"
  int64_t peak_activation_bytes() const;  // the arena every run needs
  int64_t weight_bytes() const;           // constants (weights, biases, tables, indices)

  // Instructions, CPU nodes, tensors and the memory plan as JSON.
  std::string summary_json() const;

  // The .lqm file: a magic number, format version, checksum and the protobuf Program
  // (lib/compiler/program.proto). save() writes a temporary file and renames it.
  std::string serialize() const;
  void save(const std::string& path) const;
  // Throws kInvalidModel for a corrupt, truncated or foreign file and kUnsupported for
  // one written by a newer format version, naming `context` (the path for load()).
  static Program parse(const void* data, size_t size, const std::string& context = ".lqm buffer");
  static Program load(const std::string& path);

  // libquant's own code (the fixed Simulator, the writer) reads the instructions here.
  const compiler::ProgramData& data() const;

 private:
  std::shared_ptr<const compiler::ProgramData> data_;
};

// ---- Cost estimate (lquant estimate; Program::summary_json's "estimate") ------------------

struct LayerEstimate {
  std::string node, op_type, kernel;  // kernel "CPU": runs on the host (DDR traffic only)
  int activation_bits = 8, weight_bits = 0;
  int64_t macs = 0;
  int64_t weight_bytes = 0;  // at the weights' bit width
  int64_t input_bytes = 0;   // activations read
  int64_t output_bytes = 0;  // activations written
  int cores = 1;             // cores the layer runs on
  std::string split;         // "none", "feature_map" or "output_channels"
  int64_t tiles = 1;         // feature-map cuts per core so that a tile fits in SRAM
  int64_t ddr_bytes = 0;     // traffic to and from DDR (activations kept on chip excluded)
  int64_t compute_cycles = 0, memory_cycles = 0, cycles = 0;
};

struct ProgramEstimate {
  std::string target;
  CompileMode mode = CompileMode::kBalance;
  double balance_factor = 0.25;
  int cores = 1;
  int64_t sram_bytes = 0;
  double clock_hz = 0.0;
  std::vector<LayerEstimate> layers;
  int64_t macs = 0, weight_bytes = 0, activation_bytes = 0, ddr_bytes = 0, cycles = 0;
  double latency_seconds = 0.0;
  double fps = 0.0;
  std::string to_json() const;
};

// The plan and cost of every instruction of `program` on `target` (a roofline per layer on
// the chosen cores, SRAM tiling, DDR traffic). kBalance takes the fewest cycles among the
// plans whose DDR traffic is within `balance_factor` (a share: 0.25 is 25 %) of the least;
// 0 is bandwidth's choice, a large factor latency's.
LQ_EXPORT ProgramEstimate estimate_program(const Program& program, const Target& target,
                                           CompileMode mode = CompileMode::kBalance,
                                           double balance_factor = 0.25);

// ---- Deployment check before calibration (lquant check) -------------------------------

enum class Placement : uint8_t { kNpu, kCpu, kUnsupported };
LQ_EXPORT const char* placement_name(Placement p);  // "NPU", "CPU", "unsupported"

struct NodePlacement {
  std::string node, op_type;
  Placement placement = Placement::kNpu;
  std::string reason;  // the rule or constraint that decided it
};

struct DeploymentCheck {
  std::string target;
  std::vector<NodePlacement> nodes;  // every node of the (optimized) graph, in order
  int64_t npu = 0, cpu = 0, unsupported = 0;
  bool deployable() const { return unsupported == 0; }
  bool all_on_npu() const { return unsupported == 0 && cpu == 0; }
  std::string to_json() const;
};

// The graph quantized with nominal parameters (every activation in [-1, 1] at the target's
// widths; no calibration) and compiled: what check_deployment and estimates without
// calibration read. Node placement does not depend on the ranges.
// `config` chooses the widths (default int8; the Quantizer applies the target's limits).
LQ_EXPORT Program compile_nominal(const Graph& graph, const CompileOptions& options,
                                  const QuantConfig& config = {});
// Where every node runs: the Compiler's lowering rules (integer kernel or CPU, and why) on
// compile_nominal's program; a CPU node whose op has no float kernel is unsupported.
LQ_EXPORT DeploymentCheck check_deployment(const Graph& graph, const CompileOptions& options,
                                           const QuantConfig& config = {});

class LQ_EXPORT Compiler {
 public:
  explicit Compiler(CompileOptions options = {});
  // Throws naming the node when a node cannot be lowered even to CPU (e.g. a shape the
  // model cannot have) or when the quantization parameters are inconsistent.
  Program compile(const QuantizedGraph& qgraph) const;
  const CompileOptions& options() const { return options_; }

 private:
  CompileOptions options_;
};

}  // namespace lq
