#include <algorithm>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

void tile(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const std::vector<int64_t> repeats = int_list_input(ctx, 1);
  if (repeats.size() != data.rank()) {
    ctx.fail_input(1, "repeats {} must have one entry per axis of the data {}", shape_str(repeats),
                   shape_str(data.shape()));
  }
  const std::vector<int64_t> strides = row_major_strides(data.shape());
  Shape out_shape(data.rank());
  std::vector<std::vector<int64_t>> offsets(data.rank());
  for (size_t d = 0; d < data.rank(); ++d) {
    if (repeats[d] < 0) ctx.fail_input(1, "repeats {} has a negative entry", shape_str(repeats));
    if (__builtin_mul_overflow(data.dim(d), repeats[d], &out_shape[d])) out_shape[d] = -1;
  }
  if (std::find(out_shape.begin(), out_shape.end(), -1) != out_shape.end()) {
    ctx.fail(StatusCode::kResourceExhausted, "repeats {} of the data {} give more elements than 64 bits count",
             shape_str(repeats), shape_str(data.shape()));
  }
  ctx.check_output_size(0, data.dtype(), out_shape);  // before the per-axis offsets
  for (size_t d = 0; d < data.rank(); ++d) {
    for (int64_t j = 0; j < out_shape[d]; ++j) {
      offsets[d].push_back(j % data.dim(d) * strides[d]);
    }
  }
  gather_by_axis_offsets(ctx, data, offsets, ctx.make_output(0, data.dtype(), out_shape));
}

}  // namespace lq::kernels
