// Fast float32 twins of the reference nn kernels; each falls back to its
// reference kernel for what it does not cover (other dtypes, 3-D windows,
// MaxPool's Indices output).
#pragma once

#include "kernels/float/kernel.hpp"

namespace lq::kernels::optimized {

void conv(KernelContext& ctx);
void conv_transpose(KernelContext& ctx);
void gemm(KernelContext& ctx);
void mat_mul(KernelContext& ctx);
void max_pool(KernelContext& ctx);
void average_pool(KernelContext& ctx);
void global_average_pool(KernelContext& ctx);
void global_max_pool(KernelContext& ctx);

}  // namespace lq::kernels::optimized
