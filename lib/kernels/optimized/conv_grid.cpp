#include "kernels/optimized/conv_grid.hpp"

#include <algorithm>

#include "kernels/optimized/parallel.hpp"

namespace lq::kernels::optimized {

namespace {

// Whether some tap offset (tap * dilation) has this remainder modulo the stride.
std::vector<bool> used_phases(int64_t kernel, int64_t dilation, int64_t stride) {
  std::vector<bool> used(static_cast<size_t>(stride), false);
  for (int64_t k = 0; k < kernel; ++k) used[static_cast<size_t>(k * dilation % stride)] = true;
  return used;
}

}  // namespace

PhaseGrid PhaseGrid::of(const Window2d& w, int64_t channels) {
  PhaseGrid g;
  g.window = w;
  g.channels = channels;
  g.height = w.out_h + (w.kernel_h - 1) * w.dilation_h / w.stride_h;
  g.width = w.out_w + (w.kernel_w - 1) * w.dilation_w / w.stride_w;
  return g;
}

int64_t PhaseGrid::size() const {
  const Window2d& w = window;
  return channels * w.stride_h * w.stride_w * plane() +
         (w.kernel_w - 1) * w.dilation_w / w.stride_w;
}

std::vector<int64_t> PhaseGrid::row_offsets() const {
  const Window2d& w = window;
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(channels * w.kernel_h * w.kernel_w));
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
      const int64_t row = kh * w.dilation_h;
      for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
        const int64_t col = kw * w.dilation_w;
        const int64_t phase = (c * w.stride_h + row % w.stride_h) * w.stride_w + col % w.stride_w;
        offsets.push_back(phase * plane() + row / w.stride_h * width + col / w.stride_w);
      }
    }
  }
  return offsets;
}

void PhaseGrid::fill(const float* input, float* planes, ThreadPool& pool) const {
  const Window2d& w = window;
  const std::vector<bool> rows_used = used_phases(w.kernel_h, w.dilation_h, w.stride_h);
  const std::vector<bool> cols_used = used_phases(w.kernel_w, w.dilation_w, w.stride_w);
  // How far the dropped columns of a plane's last row read into the next plane.
  const int64_t reach = (w.kernel_w - 1) * w.dilation_w / w.stride_w;
  // One task per (channel, row phase).
  pool.parallel_for(
      channels * w.stride_h,
      [&](int64_t begin, int64_t end) {
        for (int64_t task = begin; task < end; ++task) {
          const int64_t c = task / w.stride_h, a = task % w.stride_h;
          const float* in = input + c * w.in_h * w.in_w;
          for (int64_t b = 0; b < w.stride_w; ++b) {
            float* dst = planes + ((c * w.stride_h + a) * w.stride_w + b) * plane();
            if (!rows_used[static_cast<size_t>(a)] || !cols_used[static_cast<size_t>(b)]) {
              std::fill(dst, dst + std::min(reach, plane()), 0.0f);  // no tap reads it otherwise
              continue;
            }
            // Plane column x holds input column x * stride_w + b - pad_left.
            const int64_t shift = b - w.pad_left;
            const InteriorRange cols = interior_range(w.in_w, width, w.stride_w, -shift, 0, 0);
            for (int64_t y = 0; y < height; ++y, dst += width) {
              const int64_t iy = y * w.stride_h + a - w.pad_top;
              if (iy < 0 || iy >= w.in_h) {
                std::fill(dst, dst + width, 0.0f);
                continue;
              }
              const float* row = in + iy * w.in_w;
              std::fill(dst, dst + cols.first, 0.0f);
              // Constant strides let the compiler vectorize the common cases.
              if (w.stride_w == 1) {
                for (int64_t x = cols.first; x < cols.last; ++x) dst[x] = row[x + shift];
              } else if (w.stride_w == 2) {
                for (int64_t x = cols.first; x < cols.last; ++x) dst[x] = row[2 * x + shift];
              } else {
                for (int64_t x = cols.first; x < cols.last; ++x)
                  dst[x] = row[x * w.stride_w + shift];
              }
              std::fill(dst + cols.last, dst + width, 0.0f);
            }
          }
        }
      },
      grain_for(w.stride_w * plane()));
  std::fill(planes + size() - reach, planes + size(), 0.0f);
}

}  // namespace lq::kernels::optimized
