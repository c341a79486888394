#include <cstring>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// out[..., j, ...] (j along `axis`) is values[1] where indices[...] == j (negative
// indices count from depth), else values[0]; out-of-range indices give all off.
void one_hot(KernelContext& ctx) {
  const Tensor& indices = ctx.input(0);
  const Tensor& depth_input = ctx.input(1);
  const Tensor& values = ctx.input(2);
  if (depth_input.numel() != 1) {
    ctx.fail_input(1, "depth must hold one value, got shape {}", shape_str(depth_input.shape()));
  }
  if (values.numel() != 2) {
    ctx.fail_input(2, "values must be [off_value, on_value], got shape {}",
                   shape_str(values.shape()));
  }
  const int64_t depth = depth_input.to_int64s()[0];
  if (depth < 1) ctx.fail_input(1, "depth {} must be at least 1", depth);
  const auto out_rank = static_cast<int64_t>(indices.rank() + 1);
  const auto axis =
      static_cast<size_t>(normalize_axis(ctx, ctx.node.attr_int("axis", -1), out_rank, "axis"));
  Shape out_shape = indices.shape();
  out_shape.insert(out_shape.begin() + static_cast<int64_t>(axis), depth);
  Tensor& out = ctx.make_output(0, values.dtype(), out_shape);

  const std::vector<int64_t> index_values = indices.to_int64s();
  const int64_t inner =
      shape_numel(Shape(out_shape.begin() + static_cast<int64_t>(axis) + 1, out_shape.end()));
  const size_t size = dtype_size(values.dtype());
  const auto* off = static_cast<const uint8_t*>(values.raw());
  const uint8_t* on = off + size;
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t i = 0; i < out.numel(); ++i) std::memcpy(dst + i * size, off, size);
  for (size_t n = 0; n < index_values.size(); ++n) {
    int64_t j = index_values[n];
    if (j < -depth || j >= depth) continue;
    if (j < 0) j += depth;
    const int64_t outer = static_cast<int64_t>(n) / inner;
    const int64_t position = (outer * depth + j) * inner + static_cast<int64_t>(n) % inner;
    std::memcpy(dst + position * static_cast<int64_t>(size), on, size);
  }
}

}  // namespace lq::kernels
