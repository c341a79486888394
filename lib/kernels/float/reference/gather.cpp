#include <algorithm>
#include <cstring>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// out[outer, indices..., inner] = data[outer, indices[...], inner].
void gather(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Shape& dims = data.shape();
  if (dims.empty()) ctx.fail_input(0, "data must have rank >= 1, got a scalar");
  const auto axis = static_cast<size_t>(
      normalize_axis(ctx, ctx.node.attr_int("axis", 0), static_cast<int64_t>(dims.size()), "axis"));
  const std::vector<int64_t> indices = axis_indices(ctx, 1, dims[axis]);
  Shape out_shape(dims.begin(), dims.begin() + axis);
  const Shape& index_shape = ctx.input(1).shape();
  out_shape.insert(out_shape.end(), index_shape.begin(), index_shape.end());
  out_shape.insert(out_shape.end(), dims.begin() + axis + 1, dims.end());
  Tensor& out = ctx.make_output(0, data.dtype(), out_shape);

  const int64_t outer = shape_numel(Shape(dims.begin(), dims.begin() + axis));
  const size_t block =
      static_cast<size_t>(shape_numel(Shape(dims.begin() + axis + 1, dims.end()))) *
      dtype_size(data.dtype());
  const auto count = static_cast<int64_t>(indices.size());
  const auto* src = static_cast<const uint8_t*>(data.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  const int64_t grain = std::max<int64_t>(1, (1 << 16) / static_cast<int64_t>(block + 1));
  ctx.pool.parallel_for(
      outer * count,
      [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) {
          const int64_t o = n / count;
          const int64_t row = o * dims[axis] + indices[static_cast<size_t>(n % count)];
          std::memcpy(dst + n * block, src + row * block, block);
        }
      },
      grain);
}

}  // namespace lq::kernels
