#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// [d_0 .. d_{axis-1}] and [d_axis .. d_{r-1}] each become one dimension.
void flatten(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Shape& dims = data.shape();
  const auto rank = static_cast<int64_t>(dims.size());
  int64_t axis = ctx.node.attr_int("axis", 1);
  // axis may equal rank: everything goes to the outer dimension.
  axis = axis == rank ? rank : normalize_axis(ctx, axis, rank, "axis");
  const Shape outer(dims.begin(), dims.begin() + axis);
  const Shape inner(dims.begin() + axis, dims.end());
  ctx.outputs[0] = data.reshaped({shape_numel(outer), shape_numel(inner)});
}

}  // namespace lq::kernels
