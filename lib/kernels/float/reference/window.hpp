// Sliding-window geometry shared by Conv, ConvTranspose and the pooling ops:
// reads kernel_shape, strides, dilations, pads and auto_pad from the node and
// computes the padding and output size along every spatial axis.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// One entry per spatial axis.
struct Window {
  std::vector<int64_t> input;  // spatial input size
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads_begin;
  std::vector<int64_t> pads_end;
  std::vector<int64_t> output;  // spatial output size

  size_t rank() const { return kernel.size(); }
  // Extent of the dilated kernel along `axis`.
  int64_t span(size_t axis) const { return (kernel[axis] - 1) * dilations[axis] + 1; }
};

AutoPad read_auto_pad(const KernelContext& ctx);

// Reads an ints attribute that must have `count` entries, each >= `min_value`;
// returns `fallback` repeated when absent.
std::vector<int64_t> read_window_attr(const KernelContext& ctx, const char* name, size_t count,
                                      int64_t fallback, int64_t min_value);

// The kernel size per spatial axis: the kernel_shape attribute, or `from_weights`
// (Conv/ConvTranspose pass the weight's spatial dims; pools pass {} to make it required).
std::vector<int64_t> read_kernel_shape(const KernelContext& ctx, size_t spatial_rank,
                                       const std::vector<int64_t>& from_weights);

struct WindowOptions {
  bool ceil_mode = false;       // pooling: round the output size up
  bool allow_dilations = true;  // AveragePool (before opset 19) has none
};

// Geometry of a forward window (Conv, MaxPool, AveragePool) over `input` spatial dims.
Window resolve_window(const KernelContext& ctx, const std::vector<int64_t>& input,
                      std::vector<int64_t> kernel, const WindowOptions& options = {});

// Row-major coordinates of `flat` within `dims`, written to `coords` (same size).
inline void unravel_index(int64_t flat, const std::vector<int64_t>& dims,
                          std::vector<int64_t>& coords) {
  for (size_t i = dims.size(); i-- > 0;) {
    coords[i] = flat % dims[i];
    flat /= dims[i];
  }
}

// The taps of a forward window (Conv, MaxPool) that fall inside the input, for
// one output position at a time; one instance per thread.
class WindowTaps {
 public:
  struct Tap {
    int64_t kernel_index;  // row-major over window.kernel
    int64_t input_offset;  // row-major over window.input
  };

  explicit WindowTaps(const Window& window);
  // Output `out_index` (row-major over window.output): its taps in kernel order.
  const std::vector<Tap>& inside(int64_t out_index);

 private:
  const Window& window_;
  std::vector<int64_t> kernel_coords_;  // kernel size x rank
  std::vector<int64_t> out_coords_;
  std::vector<Tap> taps_;
};

// The spatial dims of an N x C x D1 x ... tensor, checked to have at least one.
std::vector<int64_t> spatial_dims(const KernelContext& ctx, size_t input_index);

}  // namespace lq::kernels
