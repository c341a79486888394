// AVX-512 depthwise plane: the input plane is copied into its phase grid (see
// PhaseGrid), where every tap of 16 consecutive outputs is one contiguous load,
// with no bounds checks and for any stride.
#include <immintrin.h>

#include "kernels/float/optimized/depthwise_conv.hpp"

namespace lq::kernels::optimized {

namespace {

__mmask16 first_lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
}

// U vectors (16 * U outputs) of output row oh starting at ow, the last one
// holding `last` outputs (1..16). U independent accumulators hide the FMA latency.
template <int U>
void row_block(const DepthwiseConv& conv, const DepthwisePlane& p, int64_t oh, int64_t ow,
               int64_t last) {
  const __mmask16 last_mask = first_lanes(last);
  const int64_t taps = conv.window.kernel_h * conv.window.kernel_w;
  const float* grid_row = p.scratch + oh * conv.grid.width + ow;
  __m512 acc[U];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) acc[u] = _mm512_set1_ps(p.bias);
  for (int64_t t = 0; t < taps; ++t) {
    const float* src = grid_row + p.tap_offsets[t];
    const __m512 weight = _mm512_set1_ps(p.weights[t]);
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      const __m512 x = u == U - 1 ? _mm512_maskz_loadu_ps(last_mask, src + 16 * u)
                                  : _mm512_loadu_ps(src + 16 * u);
      acc[u] = _mm512_fmadd_ps(weight, x, acc[u]);
    }
  }
  float* out = p.output + oh * conv.window.out_w + ow;
#pragma GCC unroll 8
  for (int u = 0; u < U - 1; ++u) _mm512_storeu_ps(out + 16 * u, acc[u]);
  _mm512_mask_storeu_ps(out + 16 * (U - 1), last_mask, acc[U - 1]);
}

constexpr int64_t kMaxVectors = 8;

void row_block_of(int64_t vectors, const DepthwiseConv& conv, const DepthwisePlane& p, int64_t oh,
                  int64_t ow, int64_t last) {
  switch (vectors) {
    case 1:
      return row_block<1>(conv, p, oh, ow, last);
    case 2:
      return row_block<2>(conv, p, oh, ow, last);
    case 3:
      return row_block<3>(conv, p, oh, ow, last);
    case 4:
      return row_block<4>(conv, p, oh, ow, last);
    case 5:
      return row_block<5>(conv, p, oh, ow, last);
    case 6:
      return row_block<6>(conv, p, oh, ow, last);
    case 7:
      return row_block<7>(conv, p, oh, ow, last);
    default:
      return row_block<8>(conv, p, oh, ow, last);
  }
}

}  // namespace

void depthwise_plane_avx512(const DepthwiseConv& conv, const DepthwisePlane& p) {
  const Window2d& w = conv.window;
  conv.grid.fill_channel(p.input, 0, p.scratch);
  // A row's vectors in near-equal groups of at most kMaxVectors.
  const int64_t vectors = (w.out_w + 15) / 16;
  const int64_t groups = (vectors + kMaxVectors - 1) / kMaxVectors;
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    int64_t ow = 0;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t size = vectors / groups + (g < vectors % groups ? 1 : 0);
      const int64_t outputs = 16 * size < w.out_w - ow ? 16 * size : w.out_w - ow;
      row_block_of(size, conv, p, oh, ow, outputs - 16 * (size - 1));
      ow += outputs;
    }
  }
}

}  // namespace lq::kernels::optimized
