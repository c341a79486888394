// Integer Slice with ONNX's index rules: negative starts / ends count from the back and
// are clamped to the axis ([0, dim] going forward, [-1, dim - 1] going backward).
#include <algorithm>

#include "kernels/integer/common.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Slice";

// The element indices a slice takes along an axis of `dim` elements.
std::vector<int64_t> axis_indices(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (dim == 0) return {};
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
  }
  std::vector<int64_t> indices;
  for (int64_t i = start; step > 0 ? i < end : i > end; i += step) indices.push_back(i);
  return indices;
}

}  // namespace

Tensor slice(const Tensor& x, const SliceParams& params) {
  detail::require_data(kOp, "input", x);
  const auto rank = static_cast<int64_t>(x.rank());
  const size_t count = params.starts.size();
  if (params.ends.size() != count || (!params.axes.empty() && params.axes.size() != count) ||
      (!params.steps.empty() && params.steps.size() != count)) {
    detail::fail(kOp, "starts, ends, axes and steps have {}, {}, {} and {} values", count,
                 params.ends.size(), params.axes.size(), params.steps.size());
  }
  std::vector<std::vector<int64_t>> indices(x.rank());
  for (size_t d = 0; d < x.rank(); ++d) indices[d] = axis_indices(x.dim(d), 0, x.dim(d), 1);
  std::vector<bool> seen(x.rank(), false);
  for (size_t i = 0; i < count; ++i) {
    int64_t axis = params.axes.empty() ? static_cast<int64_t>(i) : params.axes[i];
    if (axis < -rank || axis >= rank)
      detail::fail(kOp, "axis {} is out of range for rank {}", axis, rank);
    if (axis < 0) axis += rank;
    const int64_t step = params.steps.empty() ? 1 : params.steps[i];
    if (step == 0) detail::fail(kOp, "step 0 on axis {}", axis);
    if (seen[static_cast<size_t>(axis)]) detail::fail(kOp, "axis {} is sliced twice", axis);
    seen[static_cast<size_t>(axis)] = true;
    indices[static_cast<size_t>(axis)] =
        axis_indices(x.dim(static_cast<size_t>(axis)), params.starts[i], params.ends[i], step);
  }
  const std::vector<int64_t> strides = detail::strides_of(x.shape());
  for (size_t d = 0; d < indices.size(); ++d) {
    for (int64_t& index : indices[d]) index *= strides[d];
  }
  return detail::gather_axes(x, indices);
}

}  // namespace lq::integer
