// The contract between the Simulator and a float kernel. A kernel reads its
// inputs, attributes and opset from the context, computes output shapes from the
// actual input shapes, and fills ctx.outputs. One kernel function per op.
#pragma once

#include <fmt/format.h>

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels/thread_pool.hpp"
#include "libquant/graph.hpp"
#include "libquant/status.hpp"
#include "libquant/tensor.hpp"

namespace lq::kernels {

class BufferPool;

struct KernelContext {
  const Node& node;
  int64_t opset;                       // the model's default-domain opset
  std::vector<const Tensor*> inputs;   // nullptr for an absent optional input
  std::vector<Tensor> outputs;         // one per node output, filled by the kernel
  ThreadPool& pool;
  BufferPool* buffers = nullptr;       // reused output buffers (the Simulator's), if any
  ResourceLimits limits;               // what one output may take, checked before allocating

  size_t num_inputs() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  // Throws kInvalidModel naming the node if input i is absent.
  const Tensor& input(size_t i) const;
  // Allocates output i (owned, zero-filled) and returns it; throws kResourceExhausted naming
  // the node when it would exceed `limits`.
  Tensor& make_output(size_t i, DType dtype, Shape shape);
  // The same for a kernel that writes every element of the output: a reused buffer keeps
  // its old bytes until then (no zero-fill pass over memory the kernel overwrites anyway).
  Tensor& make_output_uninitialized(size_t i, DType dtype, Shape shape);
  // A tensor that is not an output yet (e.g. returned by a helper), allocated the same way.
  Tensor allocate_uninitialized(DType dtype, Shape shape) const;
  // The same check alone, for kernels that build per-axis tables from the output shape
  // before allocating it (Tile, Expand, Pad, Resize): call it as soon as the shape is known.
  void check_output_size(size_t i, DType dtype, const Shape& shape) const;
  size_t num_outputs() const { return node.outputs().size(); }

  // Errors prefixed with the node: `Conv node "stem" (input 1): ...`.
  template <typename... Args>
  [[noreturn]] void fail(StatusCode code, fmt::format_string<Args...> format,
                         Args&&... args) const {
    throw Error(code, node.describe() + ": " + fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  [[noreturn]] void fail_input(size_t index, fmt::format_string<Args...> format,
                               Args&&... args) const {
    throw Error(StatusCode::kInvalidArgument,
                node.describe() + " (input " + std::to_string(index) + "): " +
                    fmt::format(format, std::forward<Args>(args)...));
  }
  // Fails with kUnsupported naming the dtype, unless it is one of `allowed`.
  void require_dtype(size_t index, std::initializer_list<DType> allowed) const;
};

using KernelFn = void (*)(KernelContext&);

// Op type -> kernel. Owned by whoever runs kernels; later additions override.
class KernelRegistry {
 public:
  void add(const std::string& op_type, KernelFn fn) { kernels_[op_type] = fn; }
  KernelFn find(const std::string& op_type) const;
  std::vector<std::string> ops() const;  // sorted

 private:
  std::unordered_map<std::string, KernelFn> kernels_;
};

// Each group file registers its ops (lib/kernels/reference/register_*.cpp).
void register_math_kernels(KernelRegistry& registry);
void register_tensor_kernels(KernelRegistry& registry);
void register_nn_kernels(KernelRegistry& registry);
// All reference kernels: the ground truth.
void register_reference_kernels(KernelRegistry& registry);
// Fast kernels that replace reference ones (lib/kernels/optimized/).
void register_optimized_kernels(KernelRegistry& registry);

}  // namespace lq::kernels
