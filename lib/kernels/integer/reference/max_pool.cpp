// Integer MaxPool: the largest code of each window (padding ignored). Quantization is
// monotonic, so with the input's parameters on the output this equals fake quantization.
#include "kernels/integer/common.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

Tensor max_pool(const Tensor& x, const PoolWindow& window) {
  constexpr const char* kOp = "MaxPool";
  detail::require_data(kOp, "input", x);
  const kernels::Window win = detail::pool_window(kOp, x, window);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = shape_numel(win.input);
  const int64_t out_size = shape_numel(win.output);
  Shape out_shape = {x.dim(0), x.dim(1)};
  out_shape.insert(out_shape.end(), win.output.begin(), win.output.end());

  const std::vector<int32_t> xs = detail::widen(x, 0);
  const int32_t lowest = dtype_qmin(x.dtype());  // an all-padding window, as the float kernel
  std::vector<int32_t> y(static_cast<size_t>(planes * out_size));
  kernels::WindowTaps taps_of(win);
  for (int64_t o = 0; o < out_size; ++o) {
    const auto& taps = taps_of.inside(o);
    for (int64_t plane = 0; plane < planes; ++plane) {
      const int32_t* x_plane = xs.data() + plane * in_size;
      int32_t best = lowest;
      for (const auto& tap : taps) best = std::max(best, x_plane[tap.input_offset]);
      y[static_cast<size_t>(plane * out_size + o)] = best;
    }
  }
  const OutputSpec same{x.dtype(), 0, dtype_qmin(x.dtype()), dtype_qmax(x.dtype())};
  return detail::narrow(same, out_shape, y);
}

// Its parameters are a bare PoolWindow.
const IntegerKernel& max_pool_kernel() {
  static const IntegerKernel k = make_kernel<PoolWindow>(
      {"MaxPool", 8, "max_pool", [](const KernelArgs& a, const PoolWindow& p) { return single(max_pool(a.in(0), p)); }});
  return k;
}

}  // namespace lq::integer
