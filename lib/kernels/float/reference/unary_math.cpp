// Elementwise math functions: Sqrt, Exp, Log, Neg, Abs, Reciprocal, Floor, Ceil,
// Round, Sign, Erf, Tanh, Sin, Cos. Transcendentals are the C library's, in the
// input's own precision (float32 functions for float32 data, as numpy does).
#include <cmath>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

template <typename T>
T absolute(T v) {
  if constexpr (std::is_unsigned_v<T>) {
    return v;
  } else if constexpr (std::is_integral_v<T>) {
    return v < 0 ? wrap_sub(T(0), v) : v;  // abs(lowest) wraps to lowest
  } else {
    return std::fabs(v);
  }
}

template <typename T>
T negate(T v) {
  if constexpr (std::is_integral_v<T>) return wrap_sub(T(0), v);
  return -v;
}

template <typename T>
T sign(T v) {
  if (v > T(0)) return T(1);
  if constexpr (std::is_signed_v<T>) {
    if (v < T(0)) return T(-1);
  }
  return v;  // zero, or NaN
}

}  // namespace
}  // namespace math

void sqrt(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(ctx, [](auto v) { return std::sqrt(v); });
}
void exp(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(
      ctx, [](auto v) { return std::exp(v); }, math::kCostlyGrain);
}
void log(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(
      ctx, [](auto v) { return std::log(v); }, math::kCostlyGrain);
}
void neg(KernelContext& ctx) {
  math::unary_kernel<math::SignedTypes>(ctx, [](auto v) { return math::negate(v); });
}
void abs(KernelContext& ctx) {
  math::unary_kernel<math::NumericTypes>(ctx, [](auto v) { return math::absolute(v); });
}
void reciprocal(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(ctx, [](auto v) { return decltype(v)(1) / v; });
}
void floor(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(ctx, [](auto v) { return std::floor(v); });
}
void ceil(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(ctx, [](auto v) { return std::ceil(v); });
}
void round(KernelContext& ctx) {
  // nearbyint rounds half to even in the default rounding mode, as ONNX requires.
  math::unary_kernel<math::FloatTypes>(ctx, [](auto v) { return std::nearbyint(v); });
}
void sign(KernelContext& ctx) {
  math::unary_kernel<math::NumericTypes>(ctx, [](auto v) { return math::sign(v); });
}
void erf(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(
      ctx, [](auto v) { return std::erf(v); }, math::kCostlyGrain);
}
void tanh(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(
      ctx, [](auto v) { return std::tanh(v); }, math::kCostlyGrain);
}
void sin(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(
      ctx, [](auto v) { return std::sin(v); }, math::kCostlyGrain);
}
void cos(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(
      ctx, [](auto v) { return std::cos(v); }, math::kCostlyGrain);
}

}  // namespace lq::kernels
