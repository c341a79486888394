// Mod: remainder with broadcasting. fmod=0 (integers only) takes the divisor's sign
// like Python's %, fmod=1 the dividend's like C's fmod.
#include <cmath>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

template <typename T>
T truncated_remainder(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::fmod(a, b);
  } else if constexpr (std::is_signed_v<T>) {
    return b == -1 ? T(0) : static_cast<T>(a % b);  // lowest % -1 overflows
  } else {
    return static_cast<T>(a % b);
  }
}

template <typename T>
T floored_remainder(T a, T b) {
  const T r = truncated_remainder(a, b);
  if constexpr (std::is_signed_v<T>) {
    if (r != 0 && ((r < 0) != (b < 0))) return static_cast<T>(r + b);
  }
  return r;
}

template <typename T>
void require_no_zero_divisor(const KernelContext& ctx, const Tensor& divisor) {
  const T* d = divisor.data<T>();
  for (int64_t i = 0; i < divisor.numel(); ++i) {
    if (d[i] == T(0)) ctx.fail_input(1, "integer modulus by zero (element {} is 0)", i);
  }
}

void remainder(KernelContext& ctx) {
  require_same_dtype(ctx, 1, 0);
  const int64_t fmod = ctx.node.attr_int("fmod", 0);
  if (fmod != 0 && fmod != 1) {
    ctx.fail(StatusCode::kInvalidArgument, "attribute fmod is {}, expected 0 or 1", fmod);
  }
  const Tensor a = float_from_half(ctx.input(0));
  const Tensor b = float_from_half(ctx.input(1));
  Tensor result;
  dispatch(
      ctx, 0, a.dtype(), NumericTypes{},
      [&](auto type) {
        using T = typename decltype(type)::type;
        if constexpr (std::is_floating_point_v<T>) {
          if (fmod == 0) {
            ctx.fail(StatusCode::kInvalidArgument,
                     "fmod=0 (integer mod) on {} inputs; ONNX requires fmod=1 for floating point",
                     dtype_name(ctx.input(0).dtype()));
          }
        } else {
          require_no_zero_divisor<T>(ctx, b);
        }
        if (fmod == 1) {
          result =
              map_binary<T, T, T>(ctx, a, b, [](T x, T y) { return truncated_remainder(x, y); });
        } else {
          result = map_binary<T, T, T>(ctx, a, b, [](T x, T y) { return floored_remainder(x, y); });
        }
      },
      {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
}

}  // namespace
}  // namespace math

void mod(KernelContext& ctx) { math::remainder(ctx); }

}  // namespace lq::kernels
