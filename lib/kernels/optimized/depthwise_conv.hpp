// Depthwise convolution (one input channel per output channel), computed
// directly: a GEMM with K = kernel taps would spend its time packing.
#pragma once

#include "kernels/optimized/window2d.hpp"

namespace lq::kernels::optimized {

struct DepthwisePlane {
  const float* input;    // in_h x in_w
  const float* weights;  // kernel_h x kernel_w
  float bias;
  float* output;   // out_h x out_w
  float* scratch;  // depthwise_scratch_size(window) floats, reusable across planes
};

// Computes one output plane; each output is bias + taps in (kh, kw) order.
using DepthwisePlaneFn = void (*)(const Window2d& window, const DepthwisePlane& plane);

// The input plane zero-padded to every row and column a window reads, with the
// columns split by phase (column % stride_w): phase p holds padded columns
// p, p + stride_w, ..., so tap kw of outputs ow.. reads phase (kw * dilation_w) %
// stride_w contiguously from column ow + (kw * dilation_w) / stride_w.
struct PhasePlanes {
  int64_t rows;    // padded rows: (out_h - 1) * stride_h + kernel extent
  int64_t width;   // columns per phase row
  int64_t phases;  // stride_w
  int64_t size() const { return rows * width * phases; }
  static PhasePlanes of(const Window2d& window);
};

size_t depthwise_scratch_size(const Window2d& window);

void depthwise_plane_portable(const Window2d& window, const DepthwisePlane& plane);
// Vectorized over 16 outputs of a row through the phase planes; AVX-512 CPUs only.
void depthwise_plane_avx512(const Window2d& window, const DepthwisePlane& plane);

DepthwisePlaneFn best_depthwise_plane();

}  // namespace lq::kernels::optimized
