// The reference kernels of the nn group (Conv, ConvTranspose, Gemm, MatMul,
// pooling). The optimized twins fall back to these for dtypes they do not cover.
#pragma once

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

void conv(KernelContext& ctx);
void conv_transpose(KernelContext& ctx);
void gemm(KernelContext& ctx);
void mat_mul(KernelContext& ctx);
void max_pool(KernelContext& ctx);
void average_pool(KernelContext& ctx);
void global_average_pool(KernelContext& ctx);
void global_max_pool(KernelContext& ctx);

}  // namespace lq::kernels
