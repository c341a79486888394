// Fast float32 twins of the reference nn kernels; each falls back to its
// reference kernel for what it does not cover (other dtypes, 3-D convolution).
#pragma once

#include "kernels/kernel.hpp"

namespace lq::kernels::optimized {

void conv(KernelContext& ctx);
void conv_transpose(KernelContext& ctx);
void gemm(KernelContext& ctx);
void mat_mul(KernelContext& ctx);

}  // namespace lq::kernels::optimized
