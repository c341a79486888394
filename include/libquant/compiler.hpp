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

struct CompileOptions {
  Target target;
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
