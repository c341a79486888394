// GlobalAveragePool and GlobalMaxPool: one value per (image, channel) plane.
#include <algorithm>

#include "kernels/float/reference/nn_kernels.hpp"
#include "kernels/float/reference/window.hpp"

namespace lq::kernels {

namespace {

// Calls reduce(plane_data, plane_size) for every N x C plane and stores its result.
template <typename T, typename Reduce>
void global_pool(KernelContext& ctx, Reduce reduce) {
  const Tensor& x_tensor = ctx.input(0);
  const std::vector<int64_t> input = spatial_dims(ctx, 0);
  const int64_t plane_size = shape_numel(input);
  if (plane_size == 0)
    ctx.fail_input(0, "shape {} has no spatial elements", shape_str(x_tensor.shape()));
  Shape out_shape(x_tensor.rank(), 1);
  out_shape[0] = x_tensor.dim(0);
  out_shape[1] = x_tensor.dim(1);
  const T* x = x_tensor.data<T>();
  T* y = ctx.make_output(0, x_tensor.dtype(), out_shape).template data<T>();
  ctx.pool.parallel_for(x_tensor.dim(0) * x_tensor.dim(1), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane)
      y[plane] = reduce(x + plane * plane_size, plane_size);
  });
}

template <typename T>
T plane_mean(const T* x, int64_t size) {
  T sum = 0;
  for (int64_t i = 0; i < size; ++i) sum += x[i];
  return sum / static_cast<T>(size);
}

// NaN propagates, as in numpy's max.
template <typename T>
T plane_max(const T* x, int64_t size) {
  T best = x[0];
  for (int64_t i = 1; i < size && best == best; ++i)
    best = x[i] > best || x[i] != x[i] ? x[i] : best;
  return best;
}

}  // namespace

void global_average_pool(KernelContext& ctx) {
  ctx.require_dtype(0, {DType::kFloat32, DType::kFloat64});
  if (ctx.input(0).dtype() == DType::kFloat64) {
    global_pool<double>(ctx, plane_mean<double>);
  } else {
    global_pool<float>(ctx, plane_mean<float>);
  }
}

void global_max_pool(KernelContext& ctx) {
  ctx.require_dtype(0, {DType::kFloat32, DType::kFloat64});
  if (ctx.input(0).dtype() == DType::kFloat64) {
    global_pool<double>(ctx, plane_max<double>);
  } else {
    global_pool<float>(ctx, plane_max<float>);
  }
}

}  // namespace lq::kernels
