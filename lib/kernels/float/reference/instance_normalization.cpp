// InstanceNormalization: each [n, c] plane of X = [N, C, D1, ...] is standardized over
// its spatial values, then scaled and shifted per channel:
//   Y = scale[c] * (X - mean) / sqrt(var + epsilon) + B[c]
// Mean and variance are computed in double (two passes).
#include <cmath>
#include <vector>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

template <typename T>
Tensor normalize(const KernelContext& ctx, const Tensor& input) {
  const Shape& shape = input.shape();
  const int64_t channels = shape[1];
  const int64_t planes = shape[0] * channels;
  const int64_t size = planes == 0 ? 0 : input.numel() / planes;
  const std::vector<double> scale = ctx.input(1).to_doubles();
  const std::vector<double> bias = ctx.input(2).to_doubles();
  const double epsilon = ctx.node.attr_float("epsilon", 1e-5f);
  Tensor output(input.dtype(), shape);
  const T* x = input.data<T>();
  T* y = output.data<T>();
  ctx.pool.parallel_for(
      planes,
      [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
          const size_t c = static_cast<size_t>(plane % channels);
          const T* in = x + plane * size;
          T* out = y + plane * size;
          double sum = 0;
          for (int64_t i = 0; i < size; ++i) sum += in[i];
          const double mean = sum / static_cast<double>(size);
          double squares = 0;
          for (int64_t i = 0; i < size; ++i) squares += (in[i] - mean) * (in[i] - mean);
          const double factor = scale[c] / std::sqrt(squares / static_cast<double>(size) + epsilon);
          for (int64_t i = 0; i < size; ++i) {
            out[i] = static_cast<T>((in[i] - mean) * factor + bias[c]);
          }
        }
      },
      std::max<int64_t>(1, kCheapGrain / std::max<int64_t>(1, size)));
  return output;
}

void instance_normalization(KernelContext& ctx) {
  const Tensor x = float_from_half(ctx.input(0));
  if (x.rank() < 3) {
    ctx.fail_input(0, "shape {} has rank {}, expected at least 3 ([N, C, D1, ...])",
                   shape_str(x.shape()), x.rank());
  }
  for (size_t i = 1; i <= 2; ++i) {
    const Tensor& p = ctx.input(i);
    if (p.rank() != 1 || p.dim(0) != x.dim(1)) {
      ctx.fail_input(i, "{} has shape {}, expected [{}] (one value per channel)",
                     i == 1 ? "scale" : "B", shape_str(p.shape()), x.dim(1));
    }
  }
  Tensor result;
  dispatch(ctx, 0, x.dtype(), FloatTypes{},
           [&](auto type) { result = normalize<typename decltype(type)::type>(ctx, x); },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
}

}  // namespace
}  // namespace math

void instance_normalization(KernelContext& ctx) { math::instance_normalization(ctx); }

}  // namespace lq::kernels
