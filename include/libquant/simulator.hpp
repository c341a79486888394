// Simulator: executes a Graph with float kernels (the reference the quantized
// model is measured against).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/graph.hpp"
#include "libquant/tensor.hpp"

namespace lq {

using TensorMap = std::map<std::string, Tensor>;

// Rewrites a value (graph input, constant or node output) before any node reads it;
// fake quantization is one. Constants are rewritten once, when the Simulator is built.
using ValueTransform = std::function<Tensor(const Value& value, const Tensor& data)>;

struct SimulatorOptions {
  int threads = 1;              // results are identical for any thread count
  bool reference_only = false;  // use only the plain reference kernels
  ValueTransform transform;     // optional
  ResourceLimits limits;        // checked before each kernel output is allocated
};

// Called once for every value a node produces, in execution order.
using ValueObserver = std::function<void(const Value& value, const Tensor& data)>;

class LQ_EXPORT Simulator {
 public:
  // The graph must outlive the Simulator and stay unchanged while it is used.
  // Throws kUnsupported for an op without a kernel, naming the node and the
  // nearest supported op.
  explicit Simulator(const Graph& graph, SimulatorOptions options = {});
  ~Simulator();
  Simulator(Simulator&&) noexcept;
  Simulator& operator=(Simulator&&) noexcept;

  // Runs the graph. Every graph input must be given, with the declared dtype and
  // a shape that agrees with the declared dimensions.
  TensorMap run(const TensorMap& inputs, const ValueObserver& observer = nullptr) const;

  const Graph& graph() const;
  int threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fixes the dimensions of the graph inputs to `input_shapes` (inputs not named keep
// theirs, which must then be static) and records the dtype and shape of every value by
// running the float Simulator once on zeros: the shapes ONNX shape inference cannot
// know (dynamic dims, data-dependent Reshape targets) become static.
LQ_EXPORT void propagate_shapes(Graph& graph, const std::map<std::string, Shape>& input_shapes,
                                int threads = 1);

// Ops the float Simulator implements (ONNX default domain).
LQ_EXPORT std::vector<std::string> supported_ops();

}  // namespace lq
