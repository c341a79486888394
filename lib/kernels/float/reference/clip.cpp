// Clip: limits values to [min, max]. Before opset 11 the bounds are float attributes;
// from 11 they are optional scalar inputs of the input's dtype. An absent bound is
// the dtype's lowest / max. When min > max every value becomes max, and NaN passes
// through.
#include <limits>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

template <typename T>
T bound_input(const KernelContext& ctx, size_t index, T fallback) {
  if (!ctx.has_input(index)) return fallback;
  const Tensor bound = float_from_half(ctx.input(index));
  if (bound.numel() != 1) {
    ctx.fail_input(index, "must be a scalar, got shape {}", shape_str(bound.shape()));
  }
  return bound.data<T>()[0];
}

template <typename T>
void clip_typed(KernelContext& ctx, const Tensor& x) {
  T lo = std::numeric_limits<T>::lowest();
  T hi = std::numeric_limits<T>::max();
  if (ctx.opset < 11) {
    lo = static_cast<T>(ctx.node.attr_float("min", -std::numeric_limits<float>::max()));
    hi = static_cast<T>(ctx.node.attr_float("max", std::numeric_limits<float>::max()));
  } else {
    lo = bound_input<T>(ctx, 1, lo);
    hi = bound_input<T>(ctx, 2, hi);
  }
  ctx.outputs[0] = map_unary<T, T>(ctx, x, [lo, hi](T v) {
    const T raised = v < lo ? lo : v;
    return raised > hi ? hi : raised;
  });
}

void clip_values(KernelContext& ctx) {
  const Tensor x = float_from_half(ctx.input(0));
  for (size_t i = 1; i < 3; ++i) {
    if (ctx.has_input(i)) require_same_dtype(ctx, i, 0);
  }
  dispatch(ctx, 0, x.dtype(), NumericTypes{},
           [&](auto type) { clip_typed<typename decltype(type)::type>(ctx, x); },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, ctx.outputs[0]);
}

}  // namespace
}  // namespace math

void clip(KernelContext& ctx) { math::clip_values(ctx); }

}  // namespace lq::kernels
