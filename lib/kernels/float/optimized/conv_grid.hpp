// Convolution as one GEMM without im2col. The input is copied once into
// zero-padded phase planes, one per (row % stride_h, column % stride_w) of the
// padded input, so that for every tap (channel, kh, kw) the inputs of outputs
// (oh, 0..) are a contiguous run of one plane. Output (oh, ow) is column
// oh * width + ow of the product; columns with ow >= out_w lie between output
// rows and are dropped.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/float/optimized/window2d.hpp"
#include "kernels/thread_pool.hpp"

namespace lq::kernels::optimized {

struct PhaseGrid {
  Window2d window;
  int64_t channels = 0;
  int64_t height = 0;  // rows of one phase plane
  int64_t width = 0;   // columns of one phase plane (output columns + tap reach)

  static PhaseGrid of(const Window2d& window, int64_t channels);
  int64_t plane() const { return height * width; }
  // GEMM columns: output rows times the plane width.
  int64_t columns() const { return window.out_h * width; }
  // How far the dropped columns of a plane's last row read past the plane.
  int64_t reach() const;
  // Floats of all planes, plus the reach past the last one.
  int64_t size() const;
  // Offset of the B row of tap (channel, kh, kw), in that order, into the planes.
  std::vector<int64_t> row_offsets() const;
  // Copies `input` (channels x in_h x in_w) into the planes (size() floats).
  void fill(const float* input, float* planes, ThreadPool& pool) const;
  // The same for one channel, on the calling thread.
  void fill_channel(const float* input, int64_t channel, float* planes) const;
};

}  // namespace lq::kernels::optimized
