// PRelu: x < 0 ? slope * x : x, where slope broadcasts to X's shape (unidirectional).
#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

void parametric_relu(KernelContext& ctx) {
  require_same_dtype(ctx, 1, 0);
  const Tensor x = float_from_half(ctx.input(0));
  const Tensor slope = float_from_half(ctx.input(1));
  if (broadcast_shapes(ctx, {x.shape(), slope.shape()}) != x.shape()) {
    ctx.fail_input(1, "slope shape {} does not broadcast to the input shape {}",
                   shape_str(slope.shape()), shape_str(x.shape()));
  }
  Tensor result;
  dispatch(ctx, 0, x.dtype(), SignedTypes{},
           [&](auto type) {
             using T = typename decltype(type)::type;
             result = map_binary<T, T, T>(ctx, x, slope, [](T v, T s) -> T {
               if constexpr (std::is_integral_v<T>) return v < 0 ? wrap_mul(s, v) : v;
               return v < 0 ? s * v : v;
             });
           },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
}

}  // namespace
}  // namespace math

void prelu(KernelContext& ctx) { math::parametric_relu(ctx); }

}  // namespace lq::kernels
