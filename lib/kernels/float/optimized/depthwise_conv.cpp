#include "kernels/float/optimized/depthwise_conv.hpp"
#include "kernels/simd.hpp"

#include <algorithm>

namespace lq::kernels::optimized {

DepthwiseConv::DepthwiseConv(const Window2d& w)
    : window(w), grid(PhaseGrid::of(w, 1)), tap_offsets(grid.row_offsets()) {}

void depthwise_plane_portable(const DepthwiseConv& conv, const DepthwisePlane& p) {
  const Window2d& w = conv.window;
  conv.grid.fill_channel(p.input, 0, p.scratch);
  const int64_t taps = w.kernel_h * w.kernel_w;
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    float* out = p.output + oh * w.out_w;
    std::fill(out, out + w.out_w, p.bias);
    for (int64_t t = 0; t < taps; ++t) {
      const float weight = p.weights[t];
      const float* in = p.scratch + p.tap_offsets[t] + oh * conv.grid.width;
      for (int64_t ow = 0; ow < w.out_w; ++ow) out[ow] += weight * in[ow];
    }
  }
}

DepthwisePlaneFn best_depthwise_plane() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && simd_limit() >= SimdLevel::kAvx512 ? depthwise_plane_avx512
                                                                               : depthwise_plane_portable;
}

}  // namespace lq::kernels::optimized
