// AVX2+FMA micro-kernel: 6 rows x 16 columns held in 12 ymm accumulators.
#include <immintrin.h>

#include "kernels/float/optimized/sgemm.hpp"

namespace lq::kernels::optimized {

namespace {

constexpr int kRows = 6;
constexpr int kVectors = 2;

// B row k at b + k * NR (packed) or, with Direct, at rows[k] + col.
template <bool Direct>
void avx2_tile(int64_t kc, const float* a, const float* b, const float* const* rows, int64_t col,
               float* c, int64_t ldc, const float* bias, bool accumulate) {
  constexpr int NR = 8 * kVectors;
  __m256 acc[kRows][kVectors];
  if (accumulate) {
#pragma GCC unroll 16
    for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm256_loadu_ps(c + i * ldc + 8 * v);
    }
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < kRows; ++i) {
      const __m256 init = bias ? _mm256_set1_ps(bias[i]) : _mm256_setzero_ps();
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) acc[i][v] = init;
    }
  }
  for (int64_t k = 0; k < kc; ++k, a += kRows) {
    __m256 bv[kVectors];
    if (Direct) {
      const float* row = rows[k] + col;
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) bv[v] = _mm256_loadu_ps(row + 8 * v);
      // As in the AVX-512 kernel: fetch the tiles two to the right (one line).
      _mm_prefetch(reinterpret_cast<const char*>(row + 2 * NR), _MM_HINT_T0);
    } else {
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) bv[v] = _mm256_load_ps(b + k * NR + 8 * v);
    }
#pragma GCC unroll 16
    for (int i = 0; i < kRows; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < kRows; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) _mm256_storeu_ps(c + i * ldc + 8 * v, acc[i][v]);
  }
}

void avx2_packed(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                 const float* bias, bool accumulate) {
  avx2_tile<false>(kc, a, b, nullptr, 0, c, ldc, bias, accumulate);
}

void avx2_direct(int64_t kc, const float* a, const float* const* rows, int64_t col, float* c,
                 int64_t ldc, const float* bias, bool accumulate) {
  avx2_tile<true>(kc, a, nullptr, rows, col, c, ldc, bias, accumulate);
}

}  // namespace

const MicroKernel& avx2_micro_kernel() {
  static const MicroKernel kernel{kRows, 8 * kVectors, avx2_packed, avx2_direct, "avx2 6x16"};
  return kernel;
}

}  // namespace lq::kernels::optimized
