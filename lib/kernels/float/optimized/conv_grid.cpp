#include "kernels/float/optimized/conv_grid.hpp"

#include <algorithm>

#include "kernels/float/optimized/parallel.hpp"

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

int64_t PhaseGrid::reach() const {
  return (window.kernel_w - 1) * window.dilation_w / window.stride_w;
}

int64_t PhaseGrid::size() const {
  return channels * window.stride_h * window.stride_w * plane() + reach();
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

void PhaseGrid::fill_channel(const float* input, int64_t channel, float* planes) const {
  const Window2d& w = window;
  const std::vector<bool> rows_used = used_phases(w.kernel_h, w.dilation_h, w.stride_h);
  const std::vector<bool> cols_used = used_phases(w.kernel_w, w.dilation_w, w.stride_w);
  const float* in = input + channel * w.in_h * w.in_w;
  auto phase_plane = [&](int64_t a, int64_t b) {
    return planes + ((channel * w.stride_h + a) * w.stride_w + b) * plane();
  };
  for (int64_t a = 0; a < w.stride_h; ++a) {
    for (int64_t b = 0; b < w.stride_w; ++b) {
      if (!rows_used[static_cast<size_t>(a)] || !cols_used[static_cast<size_t>(b)]) {
        // No tap reads this plane, but the dropped columns of the previous one may.
        std::fill(phase_plane(a, b), phase_plane(a, b) + std::min(reach(), plane()), 0.0f);
      }
    }
  }
  // Padded rows in order, each into every column phase, so the input streams
  // through the cache once.
  for (int64_t r = 0; r < height * w.stride_h; ++r) {
    const int64_t a = r % w.stride_h, y = r / w.stride_h, iy = r - w.pad_top;
    if (!rows_used[static_cast<size_t>(a)]) continue;
    for (int64_t b = 0; b < w.stride_w; ++b) {
      if (!cols_used[static_cast<size_t>(b)]) continue;
      float* dst = phase_plane(a, b) + y * width;
      if (iy < 0 || iy >= w.in_h) {
        std::fill(dst, dst + width, 0.0f);
        continue;
      }
      // Plane column x holds input column x * stride_w + b - pad_left.
      const float* row = in + iy * w.in_w;
      const int64_t shift = b - w.pad_left;
      const InteriorRange cols = interior_range(w.in_w, width, w.stride_w, -shift, 0, 0);
      std::fill(dst, dst + cols.first, 0.0f);
      // Constant strides let the compiler vectorize the common cases.
      if (w.stride_w == 1) {
        for (int64_t x = cols.first; x < cols.last; ++x) dst[x] = row[x + shift];
      } else if (w.stride_w == 2) {
        for (int64_t x = cols.first; x < cols.last; ++x) dst[x] = row[2 * x + shift];
      } else {
        for (int64_t x = cols.first; x < cols.last; ++x) dst[x] = row[x * w.stride_w + shift];
      }
      std::fill(dst + cols.last, dst + width, 0.0f);
    }
  }
  if (channel == channels - 1) std::fill(planes + size() - reach(), planes + size(), 0.0f);
}

void PhaseGrid::fill(const float* input, float* planes, ThreadPool& pool) const {
  pool.parallel_for(
      channels,
      [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) fill_channel(input, c, planes);
      },
      grain_for(window.stride_h * window.stride_w * plane()));
}

}  // namespace lq::kernels::optimized
