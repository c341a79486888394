#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// out = data, then out[position of k with axis coordinate indices[k]] (reduction)= updates[k].
void scatter_elements(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& updates = ctx.input(2);
  const Shape& index_shape = ctx.input(1).shape();
  const auto rank = static_cast<int64_t>(data.rank());
  if (rank == 0) ctx.fail_input(0, "data must have rank >= 1, got a scalar");
  if (updates.shape() != index_shape || updates.dtype() != data.dtype()) {
    ctx.fail_input(2, "updates {}{} must have the shape of indices {} and the dtype of data {}",
                   dtype_name(updates.dtype()), shape_str(updates.shape()), shape_str(index_shape),
                   dtype_name(data.dtype()));
  }
  const auto axis =
      static_cast<size_t>(normalize_axis(ctx, ctx.node.attr_int("axis", 0), rank, "axis"));
  std::vector<int64_t> offsets = element_positions(ctx, data.shape(), index_shape, axis, 1);
  const std::vector<int64_t> indices = axis_indices(ctx, 1, data.dim(axis));
  const int64_t axis_stride = row_major_strides(data.shape())[axis];
  for (size_t n = 0; n < offsets.size(); ++n) offsets[n] += indices[n] * axis_stride;
  Tensor& out = ctx.outputs[0];
  out = data.clone();
  scatter_blocks(ctx, scatter_reduction(ctx), updates, offsets, 1, out);
}

// Scatter (deprecated in opset 11) is ScatterElements without reduction.
void scatter(KernelContext& ctx) {
  if (ctx.node.has_attr("reduction")) {
    ctx.fail(StatusCode::kInvalidModel, "Scatter has no reduction attribute; use ScatterElements");
  }
  scatter_elements(ctx);
}

}  // namespace lq::kernels
