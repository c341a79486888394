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

// U vectors (16 * U outputs) of output row oh starting at ow, the last one
// holding `last` outputs (1..16). U independent accumulators hide the FMA latency.
template <int U>
void row_block(const Window2d& w, const PhasePlanes& pp, const float* planes,
               const DepthwisePlane& p, int64_t oh, int64_t ow, int64_t last) {
  const __mmask16 last_mask = first_lanes(last);
  __m512 acc[U];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) acc[u] = _mm512_set1_ps(p.bias);
  for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
    const float* row = planes + (oh * w.stride_h + kh * w.dilation_h) * pp.width + ow;
    const float* weights = p.weights + kh * w.kernel_w;
    int64_t phase = 0, shift = 0;  // of column kw * dilation_w
    for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
      const float* src = row + phase * pp.rows * pp.width + shift;
      const __m512 weight = _mm512_set1_ps(weights[kw]);
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) {
        const __m512 x = u == U - 1 ? _mm512_maskz_loadu_ps(last_mask, src + 16 * u)
                                    : _mm512_loadu_ps(src + 16 * u);
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
#pragma GCC unroll 8
  for (int u = 0; u < U - 1; ++u) _mm512_storeu_ps(out + 16 * u, acc[u]);
  _mm512_mask_storeu_ps(out + 16 * (U - 1), last_mask, acc[U - 1]);
}

constexpr int64_t kMaxVectors = 8;

void row_block_of(int64_t vectors, const Window2d& w, const PhasePlanes& pp, const float* planes,
                  const DepthwisePlane& p, int64_t oh, int64_t ow, int64_t last) {
  switch (vectors) {
    case 1:
      return row_block<1>(w, pp, planes, p, oh, ow, last);
    case 2:
      return row_block<2>(w, pp, planes, p, oh, ow, last);
    case 3:
      return row_block<3>(w, pp, planes, p, oh, ow, last);
    case 4:
      return row_block<4>(w, pp, planes, p, oh, ow, last);
    case 5:
      return row_block<5>(w, pp, planes, p, oh, ow, last);
    case 6:
      return row_block<6>(w, pp, planes, p, oh, ow, last);
    case 7:
      return row_block<7>(w, pp, planes, p, oh, ow, last);
    default:
      return row_block<8>(w, pp, planes, p, oh, ow, last);
  }
}

}  // namespace

void depthwise_plane_avx512(const Window2d& w, const DepthwisePlane& p) {
  const PhasePlanes pp = PhasePlanes::of(w);
  fill_phase_planes(w, pp, p.input, p.scratch);
  // A row's vectors in near-equal groups of at most kMaxVectors.
  const int64_t vectors = (w.out_w + 15) / 16;
  const int64_t groups = (vectors + kMaxVectors - 1) / kMaxVectors;
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    int64_t ow = 0;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t size = vectors / groups + (g < vectors % groups ? 1 : 0);
      const int64_t outputs = 16 * size < w.out_w - ow ? 16 * size : w.out_w - ow;
      row_block_of(size, w, pp, p.scratch, p, oh, ow, outputs - 16 * (size - 1));
      ow += outputs;
    }
  }
}

}  // namespace lq::kernels::optimized
