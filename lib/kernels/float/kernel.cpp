#include "kernels/float/kernel.hpp"

#include "kernels/buffer_pool.hpp"

#include <algorithm>

namespace lq::kernels {

const Tensor& KernelContext::input(size_t i) const {
  if (!has_input(i)) {
    fail(StatusCode::kInvalidModel, "required input {} is missing", i);
  }
  return *inputs[i];
}

void KernelContext::check_output_size(size_t i, DType dtype, const Shape& shape) const {
  check_tensor_size(dtype, shape, limits, fmt::format("{} output {}", node.describe(), i));
}

Tensor& KernelContext::make_output(size_t i, DType dtype, Shape shape) {
  check_output_size(i, dtype, shape);
  if (i >= outputs.size()) outputs.resize(i + 1);
  outputs[i] = buffers ? buffers->allocate(dtype, std::move(shape)) : Tensor(dtype, std::move(shape));
  return outputs[i];
}

Tensor& KernelContext::make_output_uninitialized(size_t i, DType dtype, Shape shape) {
  check_tensor_size(dtype, shape, limits, fmt::format("{} output {}", node.describe(), i));
  if (i >= outputs.size()) outputs.resize(i + 1);
  outputs[i] = allocate_uninitialized(dtype, std::move(shape));
  return outputs[i];
}

Tensor KernelContext::allocate_uninitialized(DType dtype, Shape shape) const {
  return buffers ? buffers->allocate_uninitialized(dtype, std::move(shape))
                 : Tensor(dtype, std::move(shape));
}

void KernelContext::require_dtype(size_t index, std::initializer_list<DType> allowed) const {
  const DType actual = input(index).dtype();
  if (std::find(allowed.begin(), allowed.end(), actual) != allowed.end()) return;
  std::string names;
  for (DType d : allowed) names += std::string(names.empty() ? "" : ", ") + dtype_name(d);
  fail(StatusCode::kUnsupported, "input {} has dtype {}; this kernel supports {}", index,
       dtype_name(actual), names);
}

KernelFn KernelRegistry::find(const std::string& op_type) const {
  auto it = kernels_.find(op_type);
  return it == kernels_.end() ? nullptr : it->second;
}

std::vector<std::string> KernelRegistry::ops() const {
  std::vector<std::string> names;
  names.reserve(kernels_.size());
  for (const auto& entry : kernels_) names.push_back(entry.first);
  std::sort(names.begin(), names.end());
  return names;
}

void register_reference_kernels(KernelRegistry& registry) {
  register_math_kernels(registry);
  register_tensor_kernels(registry);
  register_nn_kernels(registry);
}

}  // namespace lq::kernels
