// Integer Add, TFLite's method: (x − z) << left_shift brings each input to a fine common
// grid (twice the larger input scale, divided by 2^left_shift), where the two are summed
// exactly; the sum is requantized to the output. The two input roundings are 2^−left_shift
// of that grid, so the result is within 0.5 LSB (+ ~1e-5) of the real sum. add runs the
// optimized rows (optimized/elementwise.cpp) for 8-bit inputs; add_reference is the loop.
#include <algorithm>
#include <array>

#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/elementwise.hpp"
#include "kernels/float/reference/broadcast.hpp"
#include <fmt/format.h>
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Add";


// The loop on widened offsets: each term in int64, their sum requantized by requantize64.
Tensor reference_add(const Tensor& a, const Tensor& b, const AddParams& params,
                     const Shape& out_shape) {
  const std::vector<int32_t> as = detail::widen(a, params.a_zero_point);
  const std::vector<int32_t> bs = detail::widen(b, params.b_zero_point);
  const int32_t scale = int32_t{1} << params.left_shift;
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(out_shape)));
  const OutputSpec& out = params.output;
  kernels::for_each_broadcast<2>(
      out_shape, {&a.shape(), &b.shape()}, [&](int64_t i, const std::array<int64_t, 2>& at) {
        // Each term is below 2^31 × 2^31, so the int64 sum cannot overflow.
        const int64_t a_term =
            multiply_by_multiplier(as[static_cast<size_t>(at[0])] * scale, params.a_multiplier);
        const int64_t b_term =
            multiply_by_multiplier(bs[static_cast<size_t>(at[1])] * scale, params.b_multiplier);
        const int64_t sum = params.subtract ? a_term - b_term : a_term + b_term;
        y[static_cast<size_t>(i)] =
            requantize64(sum, params.output_multiplier, out.zero_point, out.min, out.max);
      });
  return detail::narrow(out, out_shape, y);
}

}  // namespace


namespace detail {

Shape check_add(const Tensor& a, const Tensor& b, const AddParams& params) {
  require_data(kOp, "input A", a);
  require_data(kOp, "input B", b);
  check_zero_point(kOp, "input A", a.dtype(), params.a_zero_point);
  check_zero_point(kOp, "input B", b.dtype(), params.b_zero_point);
  check_output_spec(kOp, params.output);
  const int64_t largest = std::max(max_abs_offset(a.dtype(), params.a_zero_point),
                                   max_abs_offset(b.dtype(), params.b_zero_point));
  if (params.left_shift < 0 || params.left_shift > 30 ||
      (largest << params.left_shift) > std::numeric_limits<int32_t>::max()) {
    fail(kOp, "left shift {} overflows int32 for inputs {} and {}", params.left_shift,
         dtype_name(a.dtype()), dtype_name(b.dtype()));
  }
  return broadcast_shape(kOp, a.shape(), b.shape());
}

}  // namespace detail

Tensor add(const Tensor& a, const Tensor& b, const AddParams& params) {
  const Shape out_shape = detail::check_add(a, b, params);
  if (std::optional<Tensor> y = optimized::add(a, b, params, out_shape)) return *y;
  return reference_add(a, b, params, out_shape);
}

Tensor add_reference(const Tensor& a, const Tensor& b, const AddParams& params) {
  return reference_add(a, b, params, detail::check_add(a, b, params));
}

const IntegerKernel& add_kernel() {
  static const IntegerKernel k = make_kernel<AddParams>(
      {"Add", 4, "add", [](const KernelArgs& a, const AddParams& p) { return single(add(a.in(0), a.in(1), p)); },
       [](const AddParams& p) -> std::string {
         if (p.left_shift < 0 || p.left_shift > 30) {
           return fmt::format("left_shift {} is outside [0, 30]", p.left_shift);
         }
         return {};
       }});
  return k;
}

}  // namespace lq::integer
