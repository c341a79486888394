#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

template <typename T>
T scalar_value(const KernelContext& ctx, size_t index) {
  const Tensor& t = ctx.input(index);
  if (t.numel() != 1) ctx.fail_input(index, "must be a scalar, got shape {}", shape_str(t.shape()));
  return t.data<T>()[0];
}

// max(ceil((limit - start) / delta), 0) elements, exactly for integers.
template <typename T>
int64_t range_length(T start, T limit, T delta) {
  if constexpr (std::is_integral_v<T>) {
    // In 128 bits: limit - start overflows int64 for int64 extremes (fuzz-style input).
    const __int128 span = static_cast<__int128>(limit) - static_cast<__int128>(start);
    const __int128 step = delta;
    if ((span > 0) != (step > 0) || span == 0) return 0;
    const __int128 n = (span + step + (step > 0 ? -1 : 1)) / step;
    return n > INT64_MAX ? INT64_MAX : static_cast<int64_t>(n);
  } else {
    const double n = std::ceil((static_cast<double>(limit) - start) / delta);
    if (std::isnan(n)) return -1;
    if (n >= 9.2e18) return INT64_MAX;  // refused by the output size check, without UB
    return n > 0 ? static_cast<int64_t>(n) : 0;
  }
}

}  // namespace

void range(KernelContext& ctx) {
  const DType dtype = ctx.input(0).dtype();
  ctx.require_dtype(
      0, {DType::kFloat32, DType::kFloat64, DType::kInt16, DType::kInt32, DType::kInt64});
  for (size_t i = 1; i < 3; ++i) {
    if (ctx.input(i).dtype() != dtype) {
      ctx.fail_input(i, "dtype {} differs from start's {}", dtype_name(ctx.input(i).dtype()),
                     dtype_name(dtype));
    }
  }
  visit_numeric(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T start = scalar_value<T>(ctx, 0);
    const T delta = scalar_value<T>(ctx, 2);
    if (delta == T(0)) ctx.fail_input(2, "delta is 0");
    const T limit = scalar_value<T>(ctx, 1);
    const int64_t n = range_length(start, limit, delta);
    if (n < 0) ctx.fail(StatusCode::kInvalidArgument, "start {}, limit {} and delta {} give no length", start, limit, delta);
    T* out = ctx.make_output(0, dtype, {n}).template data<T>();
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
  });
}

}  // namespace lq::kernels
