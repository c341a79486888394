// Add, Sub, Mul, Div: broadcasting binary arithmetic on every numeric dtype.
// Integer overflow wraps; integer division truncates toward zero (as C++ and
// onnxruntime do) and division by zero is an error rather than a crash.
#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

struct AddOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrap_add(a, b);
    return a + b;
  }
};
struct SubOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrap_sub(a, b);
    return a - b;
  }
};
struct MulOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrap_mul(a, b);
    return a * b;
  }
};
struct DivOp {
  template <typename T>
  T operator()(T a, T b) const {
    // lowest / -1 overflows; negation wraps to the same bits.
    if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      if (b == -1) return wrap_sub(T(0), a);
    }
    return static_cast<T>(a / b);
  }
};

template <typename T>
void require_no_zero_divisor(const KernelContext& ctx, const Tensor& divisor) {
  const T* d = divisor.data<T>();
  for (int64_t i = 0; i < divisor.numel(); ++i) {
    if (d[i] == T(0)) {
      ctx.fail_input(1, "integer division by zero (element {} of the divisor is 0)", i);
    }
  }
}

template <typename Op>
void arithmetic(KernelContext& ctx) {
  require_same_dtype(ctx, 1, 0);
  const Tensor a = float_from_half(ctx.input(0));
  const Tensor b = float_from_half(ctx.input(1));
  Tensor result;
  dispatch(ctx, 0, a.dtype(), NumericTypes{},
           [&](auto type) {
             using T = typename decltype(type)::type;
             if constexpr (std::is_same_v<Op, DivOp> && std::is_integral_v<T>) {
               require_no_zero_divisor<T>(ctx, b);
             }
             result = map_binary<T, T, T>(ctx, a, b, Op{});
           },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
}

}  // namespace
}  // namespace math

void add(KernelContext& ctx) { math::arithmetic<math::AddOp>(ctx); }
void sub(KernelContext& ctx) { math::arithmetic<math::SubOp>(ctx); }
void mul(KernelContext& ctx) { math::arithmetic<math::MulOp>(ctx); }
void div(KernelContext& ctx) { math::arithmetic<math::DivOp>(ctx); }

}  // namespace lq::kernels
