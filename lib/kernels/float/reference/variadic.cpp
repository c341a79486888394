// Min, Max, Sum, Mean: variadic elementwise ops with broadcasting, folded left to
// right (((x0 op x1) op x2) ...), which fixes the rounding order of Sum and Mean.
#include <cmath>
#include <vector>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

struct MaxOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(b)) return b;  // NaN propagates, as numpy.maximum
    }
    return b > a ? b : a;
  }
};
struct MinOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(b)) return b;
    }
    return b < a ? b : a;
  }
};
struct SumOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrap_add(a, b);
    return a + b;
  }
};

// Folds every input with op in dtype T; float16 runs in float32.
template <typename Types, typename Op>
Tensor fold(KernelContext& ctx, Op op) {
  if (ctx.num_inputs() == 0) {
    ctx.fail(StatusCode::kInvalidModel, "needs at least one input, the node has none");
  }
  std::vector<Shape> shapes;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (i > 0) require_same_dtype(ctx, i, 0);
    shapes.push_back(ctx.input(i).shape());
  }
  broadcast_shapes(ctx, shapes);  // names the offending input before any work
  Tensor acc = float_from_half(ctx.input(0));
  dispatch(ctx, 0, acc.dtype(), Types{},
           [&](auto type) {
             using T = typename decltype(type)::type;
             for (size_t i = 1; i < ctx.num_inputs(); ++i) {
               acc = map_binary<T, T, T>(ctx, acc, float_from_half(ctx.input(i)), op);
             }
           },
           {DType::kFloat16});
  return acc;
}

void average(KernelContext& ctx) {
  Tensor total = fold<FloatTypes>(ctx, SumOp{});
  if (ctx.num_inputs() > 1) {
    dispatch(ctx, 0, total.dtype(), FloatTypes{}, [&](auto type) {
      using T = typename decltype(type)::type;
      const T count = static_cast<T>(ctx.num_inputs());
      total = map_unary<T, T>(ctx, total, [count](T v) { return v / count; });
    });
  }
  ctx.outputs[0] = half_if_input_half(ctx, total);
}

}  // namespace
}  // namespace math

void max(KernelContext& ctx) {
  ctx.outputs[0] =
      math::half_if_input_half(ctx, math::fold<math::NumericTypes>(ctx, math::MaxOp{}));
}
void min(KernelContext& ctx) {
  ctx.outputs[0] =
      math::half_if_input_half(ctx, math::fold<math::NumericTypes>(ctx, math::MinOp{}));
}
void sum(KernelContext& ctx) {
  ctx.outputs[0] =
      math::half_if_input_half(ctx, math::fold<math::NumericTypes>(ctx, math::SumOp{}));
}
void mean(KernelContext& ctx) { math::average(ctx); }

}  // namespace lq::kernels
