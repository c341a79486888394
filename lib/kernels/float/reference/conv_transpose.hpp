// ConvTranspose's validated geometry, shared by the reference and the optimized kernel.
#pragma once

#include <cstdint>

#include "kernels/float/kernel.hpp"
#include "kernels/float/reference/window.hpp"

namespace lq::kernels {

// Output position o along an axis receives input i through kernel tap k when
// i * stride + k * dilation - pads_begin == o. Pads derived from output_shape can
// be negative: the output then extends past the computed values with zeros.
struct ConvTransposeGeometry {
  int64_t batch = 0;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t group = 1;
  Window window;  // input = X spatial dims, output = Y spatial dims
  Shape output_shape;

  int64_t in_per_group() const { return in_channels / group; }
  int64_t out_per_group() const { return out_channels / group; }
};

ConvTransposeGeometry resolve_conv_transpose(const KernelContext& ctx);

}  // namespace lq::kernels
