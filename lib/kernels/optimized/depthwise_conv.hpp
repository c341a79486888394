// Depthwise convolution (one input channel per output channel), computed
// directly: a GEMM with K = kernel taps would spend its time packing.
#pragma once

#include "kernels/optimized/im2col.hpp"

namespace lq::kernels::optimized {

struct DepthwisePlane {
  const float* input;    // in_h x in_w
  const float* weights;  // kernel_h x kernel_w
  float bias;
  float* output;         // out_h x out_w
};

// Computes one output plane; each output is bias + taps in (kh, kw) order.
using DepthwisePlaneFn = void (*)(const Window2d& window, const DepthwisePlane& plane);

void depthwise_plane_portable(const Window2d& window, const DepthwisePlane& plane);
// Vector interior for strides 1 and 2, portable for the rest; AVX-512 CPUs only.
void depthwise_plane_avx512(const Window2d& window, const DepthwisePlane& plane);

DepthwisePlaneFn best_depthwise_plane();

}  // namespace lq::kernels::optimized
