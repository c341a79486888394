// Conv's im2col matrix, packed straight into GEMM panels: B[k][n] with
// k = (channel, kh, kw) and n = (oh, ow), read from the input on the fly so the
// full im2col matrix is never materialized.
#pragma once

#include <cstdint>

#include "kernels/optimized/sgemm.hpp"
#include "kernels/reference/window.hpp"

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
  bool is_pointwise() const;  // 1x1 kernel, stride 1, no padding: B is the input itself
};

// The outputs [first, last) along one axis (o = 0..out_size-1) for which
// o * stride - pad + tap lies inside [0, size) for every tap in [first_tap, last_tap].
struct InteriorRange {
  int64_t first;
  int64_t last;
};
InteriorRange interior_range(int64_t size, int64_t out_size, int64_t stride, int64_t pad,
                             int64_t first_tap, int64_t last_tap);

class Im2colPanelSource : public PanelSource {
 public:
  // `input` points at the first of the group's channels of one image.
  Im2colPanelSource(const float* input, const Window2d& window) : x_(input), w_(window) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t cols, int nr, float* dst) const override;

 private:
  // Writes `count` im2col values of row (channel, kh, kw) starting at output
  // pixel (oh, ow), all on one output row, to consecutive floats at dst.
  void pack_run(const float* plane, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                int64_t count, float* dst) const;

  const float* x_;
  Window2d w_;
};

}  // namespace lq::kernels::optimized
