// BatchNormalization in inference mode, opsets 7..15:
//   Y = (X - mean) / sqrt(var + epsilon) * scale + B
// folded per parameter into Y = X * a + b, with a and b computed in double. X is
// [N, C, D1, ...]; the parameters are [C], or [C, D1, ...] for spatial=0 (opsets 7-8).
// Training (training_mode=1) is not supported. Requested running-statistics outputs
// are filled with the unchanged input statistics, as inference leaves them.
#include <cmath>
#include <vector>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

// X viewed as [N, params, inner]: each parameter applies to `inner` contiguous values.
struct Layout {
  int64_t batch = 0;
  int64_t params = 0;
  int64_t inner = 0;
};

Layout layout(const KernelContext& ctx, const Shape& x) {
  if (x.size() < 2) {
    ctx.fail_input(0, "shape {} has rank {}, expected at least 2 ([N, C, ...])", shape_str(x),
                   x.size());
  }
  const bool spatial = ctx.opset >= 9 || ctx.node.attr_int("spatial", 1) != 0;
  Layout l;
  l.batch = x[0];
  l.params = spatial ? x[1] : shape_numel(Shape(x.begin() + 1, x.end()));
  l.inner = l.batch * l.params == 0 ? 0 : shape_numel(x) / (l.batch * l.params);
  const Shape expected = spatial ? Shape{x[1]} : Shape(x.begin() + 1, x.end());
  constexpr const char* kNames[] = {"scale", "B", "mean", "var"};
  for (size_t i = 1; i <= 4; ++i) {
    const Tensor& p = ctx.input(i);
    if (p.numel() != l.params || (p.rank() != 1 && p.shape() != expected)) {
      ctx.fail_input(i, "{} has shape {}, expected {}", kNames[i - 1], shape_str(p.shape()),
                     shape_str(expected));
    }
  }
  return l;
}

template <typename T>
Tensor normalize(const KernelContext& ctx, const Tensor& input, const Layout& l) {
  const double epsilon = ctx.node.attr_float("epsilon", 1e-5f);
  const std::vector<double> scale = ctx.input(1).to_doubles();
  const std::vector<double> bias = ctx.input(2).to_doubles();
  const std::vector<double> mean = ctx.input(3).to_doubles();
  const std::vector<double> var = ctx.input(4).to_doubles();
  std::vector<T> a(static_cast<size_t>(l.params));
  std::vector<T> b(static_cast<size_t>(l.params));
  for (size_t c = 0; c < a.size(); ++c) {
    const double factor = scale[c] / std::sqrt(var[c] + epsilon);
    a[c] = static_cast<T>(factor);
    b[c] = static_cast<T>(bias[c] - mean[c] * factor);
  }
  Tensor output(input.dtype(), input.shape());
  const T* x = input.data<T>();
  T* y = output.data<T>();
  const int64_t planes = l.batch * l.params;
  ctx.pool.parallel_for(
      planes,
      [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
          const size_t c = static_cast<size_t>(plane % l.params);
          const T ac = a[c];
          const T bc = b[c];
          const T* in = x + plane * l.inner;
          T* out = y + plane * l.inner;
          for (int64_t i = 0; i < l.inner; ++i) out[i] = in[i] * ac + bc;
        }
      },
      std::max<int64_t>(1, kCheapGrain / std::max<int64_t>(1, l.inner)));
  return output;
}

void batch_normalization(KernelContext& ctx) {
  if (ctx.opset >= 14 && ctx.node.attr_int("training_mode", 0) != 0) {
    ctx.fail(StatusCode::kUnsupported,
             "training_mode=1 is not supported (only inference); export the model in eval mode");
  }
  const Tensor x = float_from_half(ctx.input(0));
  const Layout l = layout(ctx, x.shape());
  Tensor result;
  dispatch(ctx, 0, x.dtype(), FloatTypes{},
           [&](auto type) { result = normalize<typename decltype(type)::type>(ctx, x, l); },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
  // Optional outputs: running mean/var (and saved mean/var before opset 14).
  for (size_t i = 1; i < ctx.num_outputs(); ++i) {
    ctx.outputs[i] = ctx.input(i % 2 == 1 ? 3 : 4);
  }
}

}  // namespace
}  // namespace math

void batch_normalization(KernelContext& ctx) { math::batch_normalization(ctx); }

}  // namespace lq::kernels
