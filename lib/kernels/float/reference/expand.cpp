#include "kernels/float/reference/broadcast.hpp"
#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// Broadcasts the data to the (bidirectionally broadcast) shape of input 1.
void expand(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  if (ctx.input(1).rank() != 1) {
    ctx.fail_input(1, "shape must be 1-D, got shape {}", shape_str(ctx.input(1).shape()));
  }
  const Shape target = int_list_input(ctx, 1);
  for (int64_t d : target) {
    if (d < 0) ctx.fail_input(1, "shape {} has a negative dimension", shape_str(target));
  }
  const Shape out_shape = broadcast_shapes(ctx, {data.shape(), target});
  ctx.check_output_size(0, data.dtype(), out_shape);  // before the per-axis offsets
  const std::vector<int64_t> strides = broadcast_strides(data.shape(), out_shape);
  std::vector<std::vector<int64_t>> offsets(out_shape.size());
  for (size_t d = 0; d < out_shape.size(); ++d) {
    for (int64_t j = 0; j < out_shape[d]; ++j) offsets[d].push_back(j * strides[d]);
  }
  gather_by_axis_offsets(ctx, data, offsets, ctx.make_output(0, data.dtype(), out_shape));
}

}  // namespace lq::kernels
