// Depthwise convolution (one input channel per output channel), computed
// directly: a GEMM with K = kernel taps would spend its time packing.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/float/optimized/conv_grid.hpp"
#include "kernels/float/optimized/window2d.hpp"

namespace lq::kernels::optimized {

// What every plane of one depthwise convolution shares.
struct DepthwiseConv {
  explicit DepthwiseConv(const Window2d& window);

  Window2d window;
  PhaseGrid grid;                    // of one channel
  std::vector<int64_t> tap_offsets;  // into the grid, in (kh, kw) order
};

// One plane's data. Plain pointers only: the AVX-512 file touches no std::
// template, whose instantiations the linker could share with baseline code.
struct DepthwisePlane {
  const float* input;    // in_h x in_w
  const float* weights;  // kernel_h x kernel_w
  float bias;
  float* output;               // out_h x out_w
  float* scratch;              // grid.size() floats, reused across planes
  const int64_t* tap_offsets;  // DepthwiseConv::tap_offsets.data()
};

// Computes one output plane; each output is bias + taps in (kh, kw) order.
using DepthwisePlaneFn = void (*)(const DepthwiseConv& conv, const DepthwisePlane& plane);

void depthwise_plane_portable(const DepthwiseConv& conv, const DepthwisePlane& plane);
// Copies the plane into the phase grid, then computes 16 outputs of a row per
// vector, every tap a contiguous load; AVX-512 CPUs only.
void depthwise_plane_avx512(const DepthwiseConv& conv, const DepthwisePlane& plane);

DepthwisePlaneFn best_depthwise_plane();

}  // namespace lq::kernels::optimized
