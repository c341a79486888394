// Integer Div: (a − za) s_a / ((b − zb) s_b) quantized to the output, rounded ONCE:
// n × mantissa / (d × 2^(31 − shift)) as an exact 128-bit quotient, ties away from zero.
// A zero divisor gives the output's end of the sign of n (±inf quantized), and 0 / 0 the
// zero point (NaN quantizes to the zero point, quantize_value).
#include <array>
#include <cstdlib>

#include "kernels/integer/common.hpp"
#include "kernels/float/reference/broadcast.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Div";

// round(n × m̂ / d) for d != 0, ties away from zero, exact.
int64_t divide_scaled(int64_t n, int64_t d, Multiplier m) {
  const int exponent = 31 - m.shift;  // m̂ = mantissa / 2^exponent, exponent >= 0
  const __int128 num = static_cast<__int128>(std::llabs(n)) * m.mantissa;
  // |n| < 2^17 and mantissa < 2^31: beyond a 2^80 denominator the quotient rounds to 0.
  if (num == 0 || exponent > 80) return 0;
  const __int128 den = static_cast<__int128>(std::llabs(d)) << exponent;
  const __int128 q = (2 * num + den) / (2 * den);
  const bool negative = (n < 0) != (d < 0);
  const __int128 limit = __int128{1} << 62;
  const int64_t magnitude = static_cast<int64_t>(q > limit ? limit : q);
  return negative ? -magnitude : magnitude;
}

}  // namespace


Tensor div(const Tensor& a, const Tensor& b, const MulParams& params) {
  detail::require_data(kOp, "input A", a);
  detail::require_data(kOp, "input B", b);
  detail::check_zero_point(kOp, "input A", a.dtype(), params.a_zero_point);
  detail::check_zero_point(kOp, "input B", b.dtype(), params.b_zero_point);
  detail::check_output_spec(kOp, params.output);
  const Shape out_shape = detail::broadcast_shape(kOp, a.shape(), b.shape());
  const std::vector<int32_t> as = detail::widen(a, params.a_zero_point);
  const std::vector<int32_t> bs = detail::widen(b, params.b_zero_point);
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(out_shape)));
  const OutputSpec& out = params.output;
  kernels::for_each_broadcast<2>(
      out_shape, {&a.shape(), &b.shape()}, [&](int64_t i, const std::array<int64_t, 2>& at) {
        const int64_t n = as[static_cast<size_t>(at[0])];
        const int64_t d = bs[static_cast<size_t>(at[1])];
        int32_t code = 0;
        if (d != 0) {
          code = clamp_to(divide_scaled(n, d, params.multiplier) + out.zero_point, out.min, out.max);
        } else {
          code = n > 0 ? out.max : n < 0 ? out.min : clamp_to(out.zero_point, out.min, out.max);
        }
        y[static_cast<size_t>(i)] = code;
      });
  return detail::narrow(out, out_shape, y);
}

// Shares Mul's message: zero points, s_a / (s_b s_out), output.
const IntegerKernel& div_kernel() {
  static const IntegerKernel k = make_kernel<MulParams>(
      {"Div", 16, "mul", [](const KernelArgs& a, const MulParams& p) { return single(div(a.in(0), a.in(1), p)); }});
  return k;
}

}  // namespace lq::integer
