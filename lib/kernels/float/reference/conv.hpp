// Conv's validated geometry, shared by the reference and the optimized kernel.
#pragma once

#include <cstdint>

#include "kernels/float/kernel.hpp"
#include "kernels/float/reference/window.hpp"

namespace lq::kernels {

struct ConvGeometry {
  int64_t batch = 0;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t group = 1;
  Window window;
  Shape output_shape;  // N x M x out...

  int64_t in_per_group() const { return in_channels / group; }
  int64_t out_per_group() const { return out_channels / group; }
};

// Checks X (input 0), W (input 1) and the optional bias B (input 2) against each
// other and the attributes, failing with a message that names the mismatch.
ConvGeometry resolve_conv(const KernelContext& ctx);

}  // namespace lq::kernels
