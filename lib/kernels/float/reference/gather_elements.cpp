#include <cstring>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

void gather_elements(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Shape& index_shape = ctx.input(1).shape();
  const auto rank = static_cast<int64_t>(data.rank());
  if (rank == 0) ctx.fail_input(0, "data must have rank >= 1, got a scalar");
  const auto axis =
      static_cast<size_t>(normalize_axis(ctx, ctx.node.attr_int("axis", 0), rank, "axis"));
  const std::vector<int64_t> positions = element_positions(ctx, data.shape(), index_shape, axis, 1);
  const std::vector<int64_t> indices = axis_indices(ctx, 1, data.dim(axis));
  const int64_t axis_stride = row_major_strides(data.shape())[axis];
  Tensor& out = ctx.make_output(0, data.dtype(), index_shape);
  const size_t size = dtype_size(data.dtype());
  const auto* src = static_cast<const uint8_t*>(data.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (size_t n = 0; n < positions.size(); ++n) {
    std::memcpy(dst + n * size, src + (positions[n] + indices[n] * axis_stride) * size, size);
  }
}

}  // namespace lq::kernels
