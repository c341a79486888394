#include "kernels/float/reference/window.hpp"

#include <algorithm>
#include <string>

namespace lq::kernels {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// SAME_*: output = ceil(input / stride); the missing coverage is padded, the odd
// pixel going to the end (UPPER) or the beginning (LOWER).
void resolve_same(Window& w, size_t axis, AutoPad auto_pad) {
  const int64_t out = ceil_div(w.input[axis], w.strides[axis]);
  const int64_t total =
      std::max<int64_t>(0, (out - 1) * w.strides[axis] + w.span(axis) - w.input[axis]);
  const int64_t smaller = total / 2;
  w.pads_begin[axis] = auto_pad == AutoPad::kSameUpper ? smaller : total - smaller;
  w.pads_end[axis] = total - w.pads_begin[axis];
  w.output[axis] = out;
}

void resolve_explicit(const KernelContext& ctx, Window& w, size_t axis, bool ceil_mode) {
  const int64_t padded = w.input[axis] + w.pads_begin[axis] + w.pads_end[axis];
  if (padded < w.span(axis)) {
    ctx.fail_input(0, "spatial axis {} has size {} (padded {}), smaller than the kernel extent {}",
                   axis, w.input[axis], padded, w.span(axis));
  }
  const int64_t room = padded - w.span(axis);
  int64_t out = (ceil_mode ? ceil_div(room, w.strides[axis]) : room / w.strides[axis]) + 1;
  // A window that would start in the end padding sees no input (as in PyTorch and ORT).
  if (ceil_mode && (out - 1) * w.strides[axis] >= w.input[axis] + w.pads_begin[axis]) --out;
  w.output[axis] = out;
}

}  // namespace

AutoPad read_auto_pad(const KernelContext& ctx) {
  const std::string value = ctx.node.attr_string("auto_pad", "NOTSET");
  if (value == "NOTSET" || value.empty()) return AutoPad::kNotSet;
  if (value == "SAME_UPPER") return AutoPad::kSameUpper;
  if (value == "SAME_LOWER") return AutoPad::kSameLower;
  if (value == "VALID") return AutoPad::kValid;
  ctx.fail(StatusCode::kInvalidModel,
           "auto_pad \"{}\" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", value);
}

std::vector<int64_t> read_window_attr(const KernelContext& ctx, const char* name, size_t count,
                                      int64_t fallback, int64_t min_value) {
  if (!ctx.node.has_attr(name)) return std::vector<int64_t>(count, fallback);
  std::vector<int64_t> values = ctx.node.attr_ints(name);
  if (values.size() != count) {
    ctx.fail(StatusCode::kInvalidModel, "attribute {} has {} values, expected {}", name,
             values.size(), count);
  }
  for (int64_t v : values) {
    if (v < min_value) {
      ctx.fail(StatusCode::kInvalidModel, "attribute {} has value {}, expected >= {}", name, v,
               min_value);
    }
  }
  return values;
}

std::vector<int64_t> read_kernel_shape(const KernelContext& ctx, size_t spatial_rank,
                                       const std::vector<int64_t>& from_weights) {
  if (!ctx.node.has_attr("kernel_shape")) {
    if (from_weights.empty()) {
      ctx.fail(StatusCode::kInvalidModel, "attribute kernel_shape is required");
    }
    return from_weights;
  }
  std::vector<int64_t> kernel = read_window_attr(ctx, "kernel_shape", spatial_rank, 1, 1);
  if (!from_weights.empty() && kernel != from_weights) {
    ctx.fail_input(1, "kernel_shape {} does not match the weight's spatial dims {}",
                   shape_str(kernel), shape_str(from_weights));
  }
  return kernel;
}

Window resolve_window(const KernelContext& ctx, const std::vector<int64_t>& input,
                      std::vector<int64_t> kernel, const WindowOptions& options) {
  const size_t rank = input.size();
  Window w;
  w.input = input;
  w.kernel = std::move(kernel);
  w.strides = read_window_attr(ctx, "strides", rank, 1, 1);
  w.dilations = options.allow_dilations ? read_window_attr(ctx, "dilations", rank, 1, 1)
                                        : std::vector<int64_t>(rank, 1);
  const std::vector<int64_t> pads = read_window_attr(ctx, "pads", 2 * rank, 0, 0);
  w.pads_begin.assign(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(rank));
  w.pads_end.assign(pads.begin() + static_cast<std::ptrdiff_t>(rank), pads.end());
  w.output.assign(rank, 0);
  const AutoPad auto_pad = read_auto_pad(ctx);
  for (size_t axis = 0; axis < rank; ++axis) {
    if (auto_pad == AutoPad::kSameUpper || auto_pad == AutoPad::kSameLower) {
      resolve_same(w, axis, auto_pad);
      continue;
    }
    if (auto_pad == AutoPad::kValid) w.pads_begin[axis] = w.pads_end[axis] = 0;
    resolve_explicit(ctx, w, axis, options.ceil_mode);
  }
  return w;
}

WindowTaps::WindowTaps(const Window& window) : window_(window), out_coords_(window.rank()) {
  const size_t rank = window.rank();
  const int64_t size = shape_numel(window.kernel);
  kernel_coords_.resize(static_cast<size_t>(size) * rank);
  std::vector<int64_t> coords(rank);
  for (int64_t k = 0; k < size; ++k) {
    unravel_index(k, window.kernel, coords);
    std::copy(coords.begin(), coords.end(),
              kernel_coords_.begin() + k * static_cast<int64_t>(rank));
  }
  taps_.reserve(static_cast<size_t>(size));
}

const std::vector<WindowTaps::Tap>& WindowTaps::inside(int64_t out_index) {
  const Window& w = window_;
  const size_t rank = w.rank();
  unravel_index(out_index, w.output, out_coords_);
  taps_.clear();
  const int64_t size = static_cast<int64_t>(kernel_coords_.size() / rank);
  for (int64_t k = 0; k < size; ++k) {
    const int64_t* k_coords = kernel_coords_.data() + k * static_cast<int64_t>(rank);
    int64_t offset = 0;
    bool inside = true;
    for (size_t i = 0; i < rank && inside; ++i) {
      const int64_t pos =
          out_coords_[i] * w.strides[i] - w.pads_begin[i] + k_coords[i] * w.dilations[i];
      inside = pos >= 0 && pos < w.input[i];
      offset = offset * w.input[i] + pos;
    }
    if (inside) taps_.push_back({k, offset});
  }
  return taps_;
}

std::vector<int64_t> spatial_dims(const KernelContext& ctx, size_t input_index) {
  const Shape& shape = ctx.input(input_index).shape();
  if (shape.size() < 3) {
    ctx.fail_input(input_index, "shape {} has rank {}, expected N x C x D1 x ... (rank >= 3)",
                   shape_str(shape), shape.size());
  }
  return std::vector<int64_t>(shape.begin() + 2, shape.end());
}

}  // namespace lq::kernels
