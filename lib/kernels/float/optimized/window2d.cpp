#include "kernels/float/optimized/window2d.hpp"

#include <algorithm>

namespace lq::kernels::optimized {

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

InteriorRange interior_range(int64_t size, int64_t out_size, int64_t stride, int64_t pad,
                             int64_t first_tap, int64_t last_tap) {
  // o * stride - pad + first_tap >= 0 and o * stride - pad + last_tap <= size - 1.
  const int64_t first = std::clamp<int64_t>(-floor_div(first_tap - pad, stride), 0, out_size);
  const int64_t last =
      std::clamp<int64_t>(floor_div(size - 1 - last_tap + pad, stride) + 1, first, out_size);
  return {first, last};
}

Window2d Window2d::from(const Window& window) {
  const size_t w = window.rank() - 1;  // the last axis is the width
  const bool two_d = window.rank() == 2;
  Window2d r;
  r.in_h = two_d ? window.input[0] : 1;
  r.in_w = window.input[w];
  r.kernel_h = two_d ? window.kernel[0] : 1;
  r.kernel_w = window.kernel[w];
  r.stride_h = two_d ? window.strides[0] : 1;
  r.stride_w = window.strides[w];
  r.dilation_h = two_d ? window.dilations[0] : 1;
  r.dilation_w = window.dilations[w];
  r.pad_top = two_d ? window.pads_begin[0] : 0;
  r.pad_left = window.pads_begin[w];
  r.out_h = two_d ? window.output[0] : 1;
  r.out_w = window.output[w];
  return r;
}

bool Window2d::is_pointwise() const {
  return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 &&
         pad_left == 0 && out_h == in_h && out_w == in_w;
}

}  // namespace lq::kernels::optimized
