// Gemm's validated operands, shared by the reference and the optimized kernel.
#pragma once

#include <cstdint>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

// Y[M,N] = alpha * A'[M,K] * B'[K,N] + beta * C. Element (i, j) of the broadcast
// C is c[i * c_row_stride + j * c_col_stride].
struct GemmProblem {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  bool trans_a = false;
  bool trans_b = false;
  float alpha = 1.0f;
  float beta = 1.0f;
  bool has_c = false;
  int64_t c_row_stride = 0;
  int64_t c_col_stride = 0;
};

GemmProblem resolve_gemm(const KernelContext& ctx);

}  // namespace lq::kernels
