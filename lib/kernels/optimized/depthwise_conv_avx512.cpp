// AVX-512 depthwise plane: the input is first copied into zero-padded phase
// planes (see PhasePlanes), so every tap of 16 consecutive outputs is one
// contiguous load, with no bounds checks and for any stride.
#include <immintrin.h>

#include "kernels/optimized/depthwise_conv.hpp"

namespace lq::kernels::optimized {

namespace {

__mmask16 first_lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
}

// dst[x] = src[x * Stride] for x < count; a compile-time stride lets the
// compiler vectorize the copy.
template <int Stride>
void strided_copy(const float* src, int64_t count, int64_t stride, float* dst) {
  const int64_t s = Stride > 0 ? Stride : stride;
  for (int64_t x = 0; x < count; ++x) dst[x] = src[x * s];
}

void fill_phase_planes(const Window2d& w, const PhasePlanes& pp, const float* input,
                       float* planes) {
  const int64_t s = w.stride_w;
  for (int64_t phase = 0; phase < pp.phases; ++phase) {
    // Phase column x holds input column x * s + first.
    const int64_t first = phase - w.pad_left;
    // Columns [lo, hi) lie inside the input row (no std:: templates in an ISA file).
    int64_t lo = first >= 0 ? 0 : (-first + s - 1) / s;
    lo = lo < pp.width ? lo : pp.width;
    int64_t hi = (w.in_w - first + s - 1) / s;
    hi = hi < pp.width ? hi : pp.width;
    hi = hi > lo ? hi : lo;
    for (int64_t r = 0; r < pp.rows; ++r) {
      float* dst = planes + (phase * pp.rows + r) * pp.width;
      const int64_t ir = r - w.pad_top;
      if (ir < 0 || ir >= w.in_h) {
        for (int64_t x = 0; x < pp.width; ++x) dst[x] = 0.0f;
        continue;
      }
      const float* src = input + ir * w.in_w + lo * s + first;
      for (int64_t x = 0; x < lo; ++x) dst[x] = 0.0f;
      if (s == 1) {
        strided_copy<1>(src, hi - lo, s, dst + lo);
      } else if (s == 2) {
        strided_copy<2>(src, hi - lo, s, dst + lo);
      } else {
        strided_copy<0>(src, hi - lo, s, dst + lo);
      }
      for (int64_t x = hi; x < pp.width; ++x) dst[x] = 0.0f;
    }
  }
}

// U vectors (16 * U outputs) of output row oh starting at ow; with Masked, one
// vector of `count` outputs. Independent accumulators hide the FMA latency.
template <int U, bool Masked>
void row_block(const Window2d& w, const PhasePlanes& pp, const float* planes,
               const DepthwisePlane& p, int64_t oh, int64_t ow, int64_t count) {
  const __mmask16 mask = first_lanes(Masked ? count : 16);
  __m512 acc[U];
#pragma GCC unroll 4
  for (int u = 0; u < U; ++u) acc[u] = _mm512_set1_ps(p.bias);
  for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
    const float* row = planes + (oh * w.stride_h + kh * w.dilation_h) * pp.width + ow;
    const float* weights = p.weights + kh * w.kernel_w;
    int64_t phase = 0, shift = 0;  // of column kw * dilation_w
    for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
      const float* src = row + phase * pp.rows * pp.width + shift;
      const __m512 weight = _mm512_set1_ps(weights[kw]);
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        const __m512 x = Masked ? _mm512_maskz_loadu_ps(mask, src) : _mm512_loadu_ps(src + 16 * u);
        acc[u] = _mm512_fmadd_ps(weight, x, acc[u]);
      }
      phase += w.dilation_w;
      while (phase >= w.stride_w) {
        phase -= w.stride_w;
        ++shift;
      }
    }
  }
  float* out = p.output + oh * w.out_w + ow;
#pragma GCC unroll 4
  for (int u = 0; u < U; ++u) {
    if (Masked) {
      _mm512_mask_storeu_ps(out, mask, acc[u]);
    } else {
      _mm512_storeu_ps(out + 16 * u, acc[u]);
    }
  }
}

}  // namespace

void depthwise_plane_avx512(const Window2d& w, const DepthwisePlane& p) {
  const PhasePlanes pp = PhasePlanes::of(w);
  fill_phase_planes(w, pp, p.input, p.scratch);
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    int64_t ow = 0;
    for (; ow + 64 <= w.out_w; ow += 64) row_block<4, false>(w, pp, p.scratch, p, oh, ow, 64);
    for (; ow + 16 <= w.out_w; ow += 16) row_block<1, false>(w, pp, p.scratch, p, oh, ow, 16);
    if (ow < w.out_w) row_block<1, true>(w, pp, p.scratch, p, oh, ow, w.out_w - ow);
  }
}

}  // namespace lq::kernels::optimized
