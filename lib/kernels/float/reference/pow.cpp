// Pow: X ^ Y with broadcasting; the result has X's dtype (ONNX T), Y may be any
// numeric dtype (T1). Float bases use std::pow in their own precision (powf for
// float32, as numpy does). Integer bases with integer exponents are exact (wrapping);
// with a float exponent the double result is truncated toward zero like a Cast.
#include <cmath>
#include <limits>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

template <typename T>
T integer_power(T base, int64_t exponent) {
  if (exponent < 0) {
    // 1 / base^n truncated: only |base| == 1 survives.
    if (base == T(1)) return T(1);
    if constexpr (std::is_signed_v<T>) {
      if (base == T(-1)) return exponent % 2 == 0 ? T(1) : T(-1);
    }
    return T(0);
  }
  T result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
    exponent >>= 1;
  }
  return result;
}

template <typename T>
T truncate_to(double value) {
  if (std::isnan(value)) return T(0);
  const double t = std::trunc(value);
  if (t <= static_cast<double>(std::numeric_limits<T>::lowest())) {
    return std::numeric_limits<T>::lowest();
  }
  if (t >= static_cast<double>(std::numeric_limits<T>::max())) {
    return std::numeric_limits<T>::max();
  }
  return static_cast<T>(t);
}

// A one-element exponent 2 that leaves the base's shape unchanged: x^2 is computed as
// x*x, as onnxruntime does (powf may round it differently).
template <typename T>
bool is_scalar_two(const Tensor& exponent, size_t base_rank) {
  return exponent.numel() == 1 && exponent.rank() <= base_rank && exponent.data<T>()[0] == T(2);
}

// The dtype the exponent is converted to: the base's for float bases, otherwise
// int64 (exact integer power) or double.
DType exponent_dtype(DType base, DType exponent) {
  if (dtype_is_float(base)) return base;
  return dtype_is_float(exponent) ? DType::kFloat64 : DType::kInt64;
}

void power(KernelContext& ctx) {
  const Tensor base = float_from_half(ctx.input(0));
  const Tensor& exponent_in = ctx.input(1);
  if (exponent_in.dtype() == DType::kBool) {
    fail_dtype(ctx, 1, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64});
  }
  const Tensor exponent = exponent_in.cast(exponent_dtype(base.dtype(), exponent_in.dtype()));
  Tensor result;
  dispatch(ctx, 0, base.dtype(), TypeList<float, double, int32_t, int64_t>{},
           [&](auto type) {
             using T = typename decltype(type)::type;
             if constexpr (std::is_floating_point_v<T>) {
               if (is_scalar_two<T>(exponent, base.rank())) {
                 result = map_unary<T, T>(ctx, base, [](T x) { return x * x; });
                 return;
               }
               result = map_binary<T, T, T>(
                   ctx, base, exponent, [](T x, T y) { return std::pow(x, y); }, kCostlyGrain);
             } else if (exponent.dtype() == DType::kInt64) {
               result = map_binary<T, int64_t, T>(
                   ctx, base, exponent, [](T x, int64_t y) { return integer_power(x, y); });
             } else {
               result = map_binary<T, double, T>(ctx, base, exponent, [](T x, double y) {
                 return truncate_to<T>(std::pow(static_cast<double>(x), y));
               });
             }
           },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
}

}  // namespace
}  // namespace math

void pow(KernelContext& ctx) { math::power(ctx); }

}  // namespace lq::kernels
