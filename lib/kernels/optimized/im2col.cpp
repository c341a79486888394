#include "kernels/optimized/im2col.hpp"

#include <algorithm>
#include <cstring>

namespace lq::kernels::optimized {

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

InteriorRange interior_range(int64_t size, int64_t out_size, int64_t stride, int64_t pad,
                             int64_t first_tap, int64_t last_tap) {
  // o * stride - pad + first_tap >= 0 and o * stride - pad + last_tap <= size - 1.
  const int64_t first = std::clamp<int64_t>(-floor_div(first_tap - pad, stride), 0, out_size);
  const int64_t last = std::clamp<int64_t>(floor_div(size - 1 - last_tap + pad, stride) + 1,
                                           first, out_size);
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

void Im2colPanelSource::pack_run(const float* plane, int64_t kh, int64_t kw, int64_t oh,
                                 int64_t ow, int64_t count, float* dst) const {
  const int64_t ih = oh * w_.stride_h - w_.pad_top + kh * w_.dilation_h;
  if (ih < 0 || ih >= w_.in_h) {
    std::fill(dst, dst + count, 0.0f);
    return;
  }
  const float* row = plane + ih * w_.in_w;
  const int64_t sw = w_.stride_w;
  // Input column of element t is base + t * sw; [lo, hi) are the ones inside the row.
  const int64_t base = ow * sw - w_.pad_left + kw * w_.dilation_w;
  const int64_t lo = std::min(count, base >= 0 ? 0 : (-base + sw - 1) / sw);
  const int64_t hi = std::max(lo, std::min(count, base >= w_.in_w ? 0 : (w_.in_w - base + sw - 1) / sw));
  std::fill(dst, dst + lo, 0.0f);
  if (sw == 1) {
    std::memcpy(dst + lo, row + base + lo, static_cast<size_t>(hi - lo) * sizeof(float));
  } else {
    for (int64_t t = lo; t < hi; ++t) dst[t] = row[base + t * sw];
  }
  std::fill(dst + hi, dst + count, 0.0f);
}

void Im2colPanelSource::pack(int64_t k0, int64_t kc, int64_t n0, int64_t cols, int nr,
                             float* dst) const {
  const int64_t taps = w_.kernel_h * w_.kernel_w;
  const int64_t panel_stride = kc * nr;
  const int64_t tail = cols % nr;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const int64_t k = k0 + kk;
    const int64_t tap = k % taps;
    const float* plane = x_ + (k / taps) * w_.in_h * w_.in_w;
    float* row_dst = dst + kk * nr;
    int64_t oh = n0 / w_.out_w, ow = n0 % w_.out_w;
    // Runs that stay on one output row and in one panel.
    for (int64_t j = 0; j < cols;) {
      const int64_t within = j % nr;
      const int64_t count = std::min({cols - j, w_.out_w - ow, nr - within});
      pack_run(plane, tap / w_.kernel_w, tap % w_.kernel_w, oh, ow, count,
               row_dst + (j / nr) * panel_stride + within);
      j += count;
      ow += count;
      if (ow == w_.out_w) {
        ow = 0;
        ++oh;
      }
    }
    if (tail != 0) {
      float* last = row_dst + (cols / nr) * panel_stride;
      std::fill(last + tail, last + nr, 0.0f);
    }
  }
}

}  // namespace lq::kernels::optimized
