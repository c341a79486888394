#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// Axes come from the attribute before opset 13 and from input 1 since.
std::vector<int64_t> squeeze_axes(const KernelContext& ctx) {
  if (ctx.opset < 13) return ctx.node.attr_ints("axes");
  return ctx.has_input(1) ? int_list_input(ctx, 1) : std::vector<int64_t>{};
}

}  // namespace

// Without axes every dimension of size 1 goes.
void squeeze(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const auto rank = static_cast<int64_t>(data.rank());
  std::vector<bool> removed(data.rank(), false);
  const std::vector<int64_t> axes = squeeze_axes(ctx);
  for (int64_t axis : axes) {
    const auto a = static_cast<size_t>(normalize_axis(ctx, axis, rank, "axis"));
    if (data.dim(a) != 1) {
      ctx.fail(StatusCode::kInvalidArgument,
               "cannot squeeze axis {} of shape {}: its size is not 1", axis,
               shape_str(data.shape()));
    }
    removed[a] = true;
  }
  Shape out;
  for (size_t d = 0; d < data.rank(); ++d) {
    const bool squeezed = axes.empty() ? data.dim(d) == 1 : removed[d];
    if (!squeezed) out.push_back(data.dim(d));
  }
  ctx.outputs[0] = data.reshaped(out);
}

}  // namespace lq::kernels
