// The fixed-point runtime: executes a compiled Program (compiler.hpp) bit for bit with the
// integer kernels. It sits above the compiler's Program and below the analysis.
#pragma once

#include <functional>
#include <memory>

#include "libquant/compiler.hpp"
#include "libquant/export.hpp"
#include "libquant/simulator.hpp"
#include "libquant/tensor.hpp"

namespace lq {

// Called for every tensor an instruction of a Program writes, in execution order, with
// its stored data (integer codes, or float32 for values that stay float).
using ProgramObserver = std::function<void(const ProgramTensorInfo& tensor, const Tensor& data)>;

struct FixedSimulatorOptions {
  int threads = 1;  // integer outputs are identical for any thread count
};

// The fixed-point Simulator: executes a compiled Program with the integer kernels (float
// arithmetic only at its edges: quantizing float inputs, dequantizing outputs on request,
// and inside the CPU nodes the Program lists). Activations live in one arena laid out by
// the Program's memory plan. run() may be called from several threads at once.
class LQ_EXPORT FixedSimulator {
 public:
  explicit FixedSimulator(Program program, FixedSimulatorOptions options = {});
  ~FixedSimulator();
  FixedSimulator(FixedSimulator&&) noexcept;
  FixedSimulator& operator=(FixedSimulator&&) noexcept;

  // Every model input as float32 (quantized here with the input's parameters) or already
  // in the input's integer dtype, with the shape the Program was compiled for. Returns
  // every output in its stored dtype (integer codes; float32 for outputs that stay float).
  TensorMap run(const TensorMap& inputs, const ProgramObserver& observer = nullptr) const;
  // run(), with quantized outputs dequantized to float32.
  TensorMap run_float(const TensorMap& inputs, const ProgramObserver& observer = nullptr) const;

  const Program& program() const;
  int threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lq
