// The 1-D and 2-D sliding windows the optimized kernels handle, as plain 2-D
// geometry, and the range of outputs whose taps all fall inside the input.
#pragma once

#include <cstdint>

#include "kernels/float/reference/window.hpp"

namespace lq::kernels::optimized {

// A 1-D or 2-D window as 2-D (a 1-D one gets height 1).
struct Window2d {
  int64_t in_h, in_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_left;
  int64_t out_h, out_w;

  // Requires a window with one or two spatial axes.
  static Window2d from(const Window& window);
  bool is_pointwise() const;  // 1x1 kernel, stride 1, no padding: the output grid is the input's
};

// The outputs [first, last) along one axis (o = 0..out_size-1) for which
// o * stride - pad + tap lies inside [0, size) for every tap in [first_tap, last_tap].
struct InteriorRange {
  int64_t first;
  int64_t last;
};
InteriorRange interior_range(int64_t size, int64_t out_size, int64_t stride, int64_t pad,
                             int64_t first_tap, int64_t last_tap);

}  // namespace lq::kernels::optimized
