// Integer Mul: (a − za)(b − zb) requantized by s_a s_b / s_out, the product in int32 for
// 8-bit inputs and in int64 when an int16 input can overflow it. mul runs the optimized
// rows (optimized/elementwise.cpp) for 8-bit inputs; mul_reference is the loop.
#include <array>

#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/elementwise.hpp"
#include "kernels/float/reference/broadcast.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Mul";

template <typename Acc>
void multiply(const Shape& out_shape, const Tensor& a, const Tensor& b,
              const std::vector<int32_t>& as, const std::vector<int32_t>& bs,
              const MulParams& params, std::vector<int32_t>& y) {
  kernels::for_each_broadcast<2>(
      out_shape, {&a.shape(), &b.shape()}, [&](int64_t i, const std::array<int64_t, 2>& at) {
        const Acc product = Acc{as[static_cast<size_t>(at[0])]} * bs[static_cast<size_t>(at[1])];
        y[static_cast<size_t>(i)] =
            detail::requantize_sum(product, params.multiplier, params.output);
      });
}

// The loop on widened offsets.
Tensor reference_mul(const Tensor& a, const Tensor& b, const MulParams& params,
                     const Shape& out_shape) {
  const std::vector<int32_t> as = detail::widen(a, params.a_zero_point);
  const std::vector<int32_t> bs = detail::widen(b, params.b_zero_point);
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(out_shape)));
  if (accumulator_is_int64(1, detail::max_abs_offset(a.dtype(), params.a_zero_point),
                           detail::max_abs_offset(b.dtype(), params.b_zero_point), 0)) {
    multiply<int64_t>(out_shape, a, b, as, bs, params, y);
  } else {
    multiply<int32_t>(out_shape, a, b, as, bs, params, y);
  }
  return detail::narrow(params.output, out_shape, y);
}

}  // namespace


namespace detail {

Shape check_mul(const Tensor& a, const Tensor& b, const MulParams& params) {
  require_data(kOp, "input A", a);
  require_data(kOp, "input B", b);
  check_zero_point(kOp, "input A", a.dtype(), params.a_zero_point);
  check_zero_point(kOp, "input B", b.dtype(), params.b_zero_point);
  check_output_spec(kOp, params.output);
  return broadcast_shape(kOp, a.shape(), b.shape());
}

}  // namespace detail

Tensor mul(const Tensor& a, const Tensor& b, const MulParams& params) {
  const Shape out_shape = detail::check_mul(a, b, params);
  if (std::optional<Tensor> y = optimized::mul(a, b, params, out_shape)) return *y;
  return reference_mul(a, b, params, out_shape);
}

Tensor mul_reference(const Tensor& a, const Tensor& b, const MulParams& params) {
  return reference_mul(a, b, params, detail::check_mul(a, b, params));
}

const IntegerKernel& mul_kernel() {
  static const IntegerKernel k = make_kernel<MulParams>(
      {"Mul", 5, "mul", [](const KernelArgs& a, const MulParams& p) { return single(mul(a.in(0), a.in(1), p)); }});
  return k;
}

}  // namespace lq::integer
