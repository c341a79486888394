#include <algorithm>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Attributes before opset 10 (no steps), inputs 1..4 since.
SliceArgs slice_args(const KernelContext& ctx, int64_t rank) {
  SliceArgs args;
  if (ctx.opset < 10) {
    args.starts = ctx.node.attr_ints("starts");
    args.ends = ctx.node.attr_ints("ends");
    args.axes = ctx.node.attr_ints("axes");
  } else {
    args.starts = int_list_input(ctx, 1);
    args.ends = int_list_input(ctx, 2);
    if (ctx.has_input(3)) args.axes = int_list_input(ctx, 3);
    if (ctx.has_input(4)) args.steps = int_list_input(ctx, 4);
  }
  const size_t n = args.starts.size();
  if (args.axes.empty() && (ctx.opset < 10 || !ctx.has_input(3))) {
    for (size_t i = 0; i < n; ++i) args.axes.push_back(static_cast<int64_t>(i));
  }
  if (args.steps.empty() && (ctx.opset < 10 || !ctx.has_input(4))) args.steps.assign(n, 1);
  if (args.ends.size() != n || args.axes.size() != n || args.steps.size() != n) {
    ctx.fail(StatusCode::kInvalidArgument,
             "starts, ends, axes and steps must have the same length, got {}, {}, {} and {}", n,
             args.ends.size(), args.axes.size(), args.steps.size());
  }
  if (static_cast<int64_t>(n) > rank) {
    ctx.fail(StatusCode::kInvalidArgument, "{} axes sliced but the data has rank {}", n, rank);
  }
  return args;
}

// Start and element count along one axis, clamped as the spec says: starts to
// [0, dim] (step > 0) or [0, dim - 1] (step < 0), ends to [0, dim] or [-1, dim - 1].
void resolve_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t* first,
                  int64_t* count) {
  *first = 0;
  *count = 0;
  if (dim == 0) return;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    *count = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    *count = start > end ? (start - end - step - 1) / -step : 0;
  }
  *first = start;
}

}  // namespace

void slice(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const auto rank = static_cast<int64_t>(data.rank());
  const SliceArgs args = slice_args(ctx, rank);
  std::vector<int64_t> first(data.rank(), 0);
  std::vector<int64_t> steps(data.rank(), 1);
  Shape out_shape = data.shape();
  std::vector<bool> seen(data.rank(), false);
  for (size_t i = 0; i < args.starts.size(); ++i) {
    const auto axis = static_cast<size_t>(normalize_axis(ctx, args.axes[i], rank, "axis"));
    if (seen[axis]) ctx.fail(StatusCode::kInvalidArgument, "axis {} is sliced twice", args.axes[i]);
    seen[axis] = true;
    if (args.steps[i] == 0) ctx.fail(StatusCode::kInvalidArgument, "step of axis {} is 0", axis);
    const int64_t dim = data.dim(axis);
    // A step longer than the axis takes only the first element, so bounding it keeps
    // the arithmetic below from overflowing without changing the result.
    steps[axis] = std::clamp<int64_t>(args.steps[i], -(dim + 1), dim + 1);
    resolve_axis(dim, args.starts[i], args.ends[i], steps[axis], &first[axis], &out_shape[axis]);
  }
  const std::vector<int64_t> strides = row_major_strides(data.shape());
  std::vector<std::vector<int64_t>> offsets(data.rank());
  for (size_t d = 0; d < data.rank(); ++d) {
    for (int64_t j = 0; j < out_shape[d]; ++j) {
      offsets[d].push_back((first[d] + j * steps[d]) * strides[d]);
    }
  }
  gather_by_axis_offsets(ctx, data, offsets, ctx.make_output(0, data.dtype(), out_shape));
}

}  // namespace lq::kernels
