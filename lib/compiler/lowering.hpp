// Lowering a QuantizedGraph node by node into ProgramData (compiler.cpp drives it; the
// op-specific rules live in lower_*.cpp). Every lowering keeps the QuantizedGraph's
// quantization points: each quantized value is materialized with its own parameters, so
// the Program differs from fake quantization only by requantization rounding. Where there
// are fewer points than values, the QuantDecisions say why (fusions, chains).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "compiler/program.hpp"
#include "compiler/kernel_params.hpp"
#include "kernels/float/kernel.hpp"

namespace lq::compiler {

class Lowering {
 public:
  Lowering(const QuantizedGraph& qgraph, const QuantDecisions& decisions, const Graph& graph,
           const Target& target);

  // Appends the instructions of `node` (or defers it: an inner node of an elementwise chain,
  // lowered as part of the table of the chain's end).
  void lower(const Node& node);
  ProgramData finish();

  // ---- used by the op rules
  const Graph& graph() const { return graph_; }
  const Target& target() const { return target_; }
  const QuantParams* params(const Value* v) const;
  // A non-constant value stored as an integer the kernels read (8/16-bit, per tensor).
  bool is_integer(const Value* v) const;
  // Why `v` is not an integer tensor (for CPU reasons).
  std::string not_integer_reason(const Value* v) const;
  // The tensor id of a value (created on first use): constants are quantized with their
  // parameters (integer inputs) or kept as they are.
  int tensor(const Value* v);
  // A constant tensor holding `data` (e.g. a bias re-expressed at the accumulator scale).
  int constant(const std::string& name, Tensor data);
  // A new activation with `v`'s shape and the parameters `quant` (a rescale's source).
  int temporary(const std::string& name, const Shape& shape, const QuantParams& quant);
  const ProgramTensor& tensor_at(int id) const { return data_.tensors[static_cast<size_t>(id)]; }
  Shape shape(const Value* v) const;
  // Adds an instruction.
  // An instruction of `kernel` (kernels/integer/registry.hpp) with its params struct.
  void emit(const integer::IntegerKernel& kernel, const Node& node, std::vector<int> inputs,
            std::vector<int> outputs, std::any params, int64_t macs = 0);
  // Runs `node`'s float reference kernel on `inputs` (compile-time evaluation).
  std::vector<Tensor> evaluate(const Node& node, const std::vector<const Tensor*>& inputs) const;
  // The constant input i, fake-quantized when it has parameters (as fake quantization
  // reads it), or nullptr.
  const Tensor* folded_constant(const Node& node, size_t i);
  kernels::KernelContext context(const Node& node) const;
  // Moves tensor `from` (already written) to `to`'s parameters when they differ.
  void emit_rescale(const Node& node, int from, int to, const integer::OutputSpec& output);
  bool same_params(int a, int b) const;

  // CPU: dequantize the inputs, run the float op, quantize the outputs.
  void lower_cpu(const Node& node, const std::string& reason);
  // The Relu / Clip whose output carries the quantization point of `v` (a fusion), or nullptr.
  const Node* fused_activation(const Value* v) const;
  // `activation` was lowered together with its producer: lower() skips it.
  void fuse(const Node& activation) { fused_.insert(activation.name()); }
  // The integer tensor a deferred value is computed from, or nullptr if `v` is not deferred.
  const Value* deferred_root(const Value* v) const;

 private:
  const QuantizedGraph& qgraph_;
  const QuantDecisions& decisions_;
  const Graph& graph_;
  Target target_;
  kernels::KernelRegistry registry_;
  mutable kernels::ThreadPool pool_{1};
  ProgramData data_;
  std::map<std::string, int> ids_;
  std::map<std::string, Tensor> folded_;  // fake-quantized constants by value name
  std::set<std::string> fused_;           // activations lowered with their producer
  std::map<const Value*, const Value*> deferred_;  // inner chain value -> its root

  bool defer(const Node& node);
  std::string operand_reason(const Node& node) const;
  bool allows_int16(const Value* v) const;  // constants are weights, the rest activations
  void lower_now(const Node& node);
};

// The op rules. Each returns false when the node is not its kind or cannot be lowered to
// integer (the caller then tries the next rule, and finally CPU); `why` says what failed.
bool lower_gather(Lowering& l, const Node& node, std::string& why);
bool lower_lookup(Lowering& l, const Node& node, std::string& why);
bool lower_arithmetic(Lowering& l, const Node& node, std::string& why);

}  // namespace lq::compiler
