// Equal, Greater, Less, GreaterOrEqual, LessOrEqual: broadcasting comparisons with a
// bool result. Float16 compares exactly through float32.
#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

using EqualTypes = TypeList<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t,
                            uint32_t, uint64_t, bool>;

template <typename Types, typename Compare>
void compare(KernelContext& ctx, Compare cmp) {
  require_same_dtype(ctx, 1, 0);
  const Tensor a = float_from_half(ctx.input(0));
  const Tensor b = float_from_half(ctx.input(1));
  dispatch(ctx, 0, a.dtype(), Types{},
           [&](auto type) {
             using T = typename decltype(type)::type;
             ctx.outputs[0] = map_binary<T, T, bool>(ctx, a, b, cmp);
           },
           {DType::kFloat16});
}

}  // namespace
}  // namespace math

void equal(KernelContext& ctx) {
  math::compare<math::EqualTypes>(ctx, [](auto x, auto y) { return x == y; });
}
void greater(KernelContext& ctx) {
  math::compare<math::NumericTypes>(ctx, [](auto x, auto y) { return x > y; });
}
void less(KernelContext& ctx) {
  math::compare<math::NumericTypes>(ctx, [](auto x, auto y) { return x < y; });
}
void greater_or_equal(KernelContext& ctx) {
  math::compare<math::NumericTypes>(ctx, [](auto x, auto y) { return x >= y; });
}
void less_or_equal(KernelContext& ctx) {
  math::compare<math::NumericTypes>(ctx, [](auto x, auto y) { return x <= y; });
}

}  // namespace lq::kernels
