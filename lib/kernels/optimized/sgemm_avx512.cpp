// AVX-512 micro-kernel: 8 rows x 32 columns held in 16 zmm accumulators. (12x32,
// 14x32, 6x64 and 8x48 measured the same on Zen 4; 8 rows fit the channel counts
// of mobile CNNs, which are multiples of 8, without padding.)
#include <immintrin.h>

#include "kernels/optimized/sgemm.hpp"

namespace lq::kernels::optimized {

namespace {

constexpr int kRows = 8;
constexpr int kVectors = 2;

template <int MR, int NV>
void avx512_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                   const float* bias, bool accumulate) {
  constexpr int NR = 16 * NV;
  __m512 acc[MR][NV];
  if (accumulate) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_loadu_ps(c + i * ldc + 16 * v);
    }
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 init = bias ? _mm512_set1_ps(bias[i]) : _mm512_setzero_ps();
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = init;
    }
  }
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + i * ldc + 16 * v, acc[i][v]);
  }
}

}  // namespace

const MicroKernel& avx512_micro_kernel() {
  static const MicroKernel kernel{kRows, 16 * kVectors, avx512_kernel<kRows, kVectors>,
                                  "avx512 8x32"};
  return kernel;
}

}  // namespace lq::kernels::optimized
