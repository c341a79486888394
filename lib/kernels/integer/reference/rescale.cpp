// Integer rescale: moves a tensor to other quantization parameters (and dtype). rescale
// runs optimized::Rescaler (a copy, a byte table or a typed loop); rescale_reference widens
// and narrows through an int32 vector.
#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/elementwise.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {


namespace {

constexpr const char* kOp = "Rescale";

void check_rescale(const Tensor& x, const Rescale& rescale, const OutputSpec& output) {
  detail::require_data(kOp, "input", x);
  detail::check_zero_point(kOp, "input", x.dtype(), rescale.zero_point);
  detail::check_output_spec(kOp, output);
}

}  // namespace

Tensor rescale(const Tensor& x, const Rescale& rescale, const OutputSpec& output) {
  check_rescale(x, rescale, output);
  Tensor y(output.dtype, x.shape());
  optimized::Rescaler(x.dtype(), rescale, output).run(x.raw(), x.numel(), y.raw());
  return y;
}

Tensor rescale_reference(const Tensor& x, const Rescale& rescale, const OutputSpec& output) {
  check_rescale(x, rescale, output);
  std::vector<int32_t> y = detail::widen(x, rescale.zero_point);
  for (int32_t& v : y)
    v = requantize(v, rescale.multiplier, output.zero_point, output.min, output.max);
  return detail::narrow(output, x.shape(), y);
}

const IntegerKernel& rescale_kernel() {
  static const IntegerKernel k = make_kernel<RescaleOp>(
      {"Rescale", 7, "rescale", [](const KernelArgs& a, const RescaleOp& p) {
         return single(rescale(a.in(0), p.rescale, p.output));
       }});
  return k;
}

}  // namespace lq::integer
