// AVX-512 depthwise plane: 16 outputs of a row per vector over the interior
// (where every horizontal tap is inside the row), scalar code at the borders.
#include <immintrin.h>

#include "kernels/optimized/depthwise_conv.hpp"

namespace lq::kernels::optimized {

namespace {

__mmask16 first_lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
}

// Input values ptr[t * stride] for t < count (count <= 16), reading nothing past
// the last of them.
template <int Stride>
__m512 load_strided(const float* ptr, int64_t count) {
  if (Stride == 1) return _mm512_maskz_loadu_ps(first_lanes(count), ptr);
  const int64_t needed = 2 * count - 1;
  const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(needed), ptr);
  const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(needed - 16 > 0 ? needed - 16 : 0), ptr + 16);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return _mm512_permutex2var_ps(lo, even, hi);
}

// One output computed tap by tap, for the border columns.
float border_output(const Window2d& w, const DepthwisePlane& p, int64_t oh, int64_t ow) {
  float acc = p.bias;
  for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
    const int64_t ih = oh * w.stride_h - w.pad_top + kh * w.dilation_h;
    if (ih < 0 || ih >= w.in_h) continue;
    for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
      const int64_t iw = ow * w.stride_w - w.pad_left + kw * w.dilation_w;
      if (iw >= 0 && iw < w.in_w) acc += p.weights[kh * w.kernel_w + kw] * p.input[ih * w.in_w + iw];
    }
  }
  return acc;
}

template <int Stride>
void plane(const Window2d& w, const DepthwisePlane& p) {
  const InteriorRange cols = interior_range(w.in_w, w.out_w, Stride, w.pad_left, 0,
                                            (w.kernel_w - 1) * w.dilation_w);
  const __m512 bias = _mm512_set1_ps(p.bias);
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    float* out_row = p.output + oh * w.out_w;
    for (int64_t ow = 0; ow < cols.first; ++ow) out_row[ow] = border_output(w, p, oh, ow);
    for (int64_t ow = cols.last; ow < w.out_w; ++ow) out_row[ow] = border_output(w, p, oh, ow);
    for (int64_t ow = cols.first; ow < cols.last; ow += 16) {
      const int64_t count = cols.last - ow < 16 ? cols.last - ow : 16;
      __m512 acc = bias;
      for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
        const int64_t ih = oh * w.stride_h - w.pad_top + kh * w.dilation_h;
        if (ih < 0 || ih >= w.in_h) continue;
        const float* in = p.input + ih * w.in_w + ow * Stride - w.pad_left;
        const float* weights = p.weights + kh * w.kernel_w;
        for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
          acc = _mm512_fmadd_ps(_mm512_set1_ps(weights[kw]),
                                load_strided<Stride>(in + kw * w.dilation_w, count), acc);
        }
      }
      _mm512_mask_storeu_ps(out_row + ow, first_lanes(count), acc);
    }
  }
}

}  // namespace

void depthwise_plane_avx512(const Window2d& window, const DepthwisePlane& p) {
  if (window.stride_w == 1) return plane<1>(window, p);
  if (window.stride_w == 2) return plane<2>(window, p);
  depthwise_plane_portable(window, p);
}

}  // namespace lq::kernels::optimized
