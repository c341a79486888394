#include "kernels/optimized/depthwise_conv.hpp"

#include <algorithm>

namespace lq::kernels::optimized {

PhasePlanes PhasePlanes::of(const Window2d& w) {
  PhasePlanes p;
  p.rows = (w.out_h - 1) * w.stride_h + (w.kernel_h - 1) * w.dilation_h + 1;
  p.phases = w.stride_w;
  p.width = w.out_w + (w.kernel_w - 1) * w.dilation_w / w.stride_w;
  return p;
}

size_t depthwise_scratch_size(const Window2d& window) {
  return static_cast<size_t>(PhasePlanes::of(window).size());
}

void depthwise_plane_portable(const Window2d& w, const DepthwisePlane& p) {
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    float* out_row = p.output + oh * w.out_w;
    std::fill(out_row, out_row + w.out_w, p.bias);
    for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
      const int64_t ih = oh * w.stride_h - w.pad_top + kh * w.dilation_h;
      if (ih < 0 || ih >= w.in_h) continue;
      const float* in_row = p.input + ih * w.in_w;
      for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
        const float weight = p.weights[kh * w.kernel_w + kw];
        const int64_t tap = kw * w.dilation_w;
        const InteriorRange r = interior_range(w.in_w, w.out_w, w.stride_w, w.pad_left, tap, tap);
        const int64_t shift = tap - w.pad_left;
        for (int64_t ow = r.first; ow < r.last; ++ow) {
          out_row[ow] += weight * in_row[ow * w.stride_w + shift];
        }
      }
    }
  }
}

DepthwisePlaneFn best_depthwise_plane() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? depthwise_plane_avx512 : depthwise_plane_portable;
}

}  // namespace lq::kernels::optimized
