// AVX-512 micro-kernel: 8 rows x 32 columns held in 16 zmm accumulators. (12x32,
// 14x32, 6x64 and 8x48 measured the same on Zen 4; 8 rows fit the channel counts
// of mobile CNNs, which are multiples of 8, without padding.)
#include <immintrin.h>

#include "kernels/float/optimized/sgemm.hpp"

namespace lq::kernels::optimized {

namespace {

constexpr int kRows = 8;
constexpr int kVectors = 2;

// B row k at b + k * NR (packed) or, with Direct, at rows[k] + col.
template <int MR, int NV, bool Direct>
void avx512_tile(int64_t kc, const float* a, const float* b, const float* const* rows, int64_t col,
                 float* c, int64_t ldc, const float* bias, bool accumulate) {
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
  for (int64_t k = 0; k < kc; ++k, a += MR) {
    __m512 bv[NV];
    if (Direct) {
      const float* row = rows[k] + col;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(row + 16 * v);
        // B rows are many short streams the hardware prefetcher cannot follow:
        // fetch the tile two to the right, which the next calls read.
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        _mm_prefetch(reinterpret_cast<const char*>(row + 2 * NR + 16 * v), _MM_HINT_T0);
    } else {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + k * NR + 16 * v);
    }
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

void avx512_packed(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                   const float* bias, bool accumulate) {
  avx512_tile<kRows, kVectors, false>(kc, a, b, nullptr, 0, c, ldc, bias, accumulate);
}

void avx512_direct(int64_t kc, const float* a, const float* const* rows, int64_t col, float* c,
                   int64_t ldc, const float* bias, bool accumulate) {
  avx512_tile<kRows, kVectors, true>(kc, a, nullptr, rows, col, c, ldc, bias, accumulate);
}

}  // namespace

const MicroKernel& avx512_micro_kernel() {
  static const MicroKernel kernel{kRows, 16 * kVectors, avx512_packed, avx512_direct,
                                  "avx512 8x32"};
  return kernel;
}

}  // namespace lq::kernels::optimized
