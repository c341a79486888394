#include <algorithm>
#include <cstring>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// The output shape; fails unless every input has the first's rank, dtype and
// dimensions (except along `axis`).
Shape concat_shape(const KernelContext& ctx, size_t axis) {
  const Tensor& first = ctx.input(0);
  Shape out = first.shape();
  out[axis] = 0;
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    const Tensor& in = ctx.input(k);
    if (in.dtype() != first.dtype()) {
      ctx.fail_input(k, "dtype {} differs from input 0's {}", dtype_name(in.dtype()),
                     dtype_name(first.dtype()));
    }
    bool same = in.rank() == first.rank();
    for (size_t d = 0; same && d < in.rank(); ++d) same = d == axis || in.dim(d) == first.dim(d);
    if (!same) {
      ctx.fail_input(k, "shape {} does not match input 0's {} outside axis {}",
                     shape_str(in.shape()), shape_str(first.shape()), axis);
    }
    out[axis] += in.dim(axis);
  }
  return out;
}

}  // namespace

void concat(KernelContext& ctx) {
  if (!ctx.node.has_attr("axis")) ctx.fail(StatusCode::kInvalidModel, "attribute axis is missing");
  const Tensor& first = ctx.input(0);
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node.attr_int("axis", 0),
                                                       static_cast<int64_t>(first.rank()), "axis"));
  const Shape out_shape = concat_shape(ctx, axis);
  Tensor& out = ctx.make_output(0, first.dtype(), out_shape);
  const int64_t outer = shape_numel(Shape(out_shape.begin(), out_shape.begin() + axis));
  if (out.numel() == 0) return;
  // Each input contributes one contiguous block of bytes per outer index.
  std::vector<size_t> block_bytes;
  for (const Tensor* in : ctx.inputs) block_bytes.push_back(in->nbytes() / outer);
  const size_t out_block = out.nbytes() / outer;
  auto* dst = static_cast<uint8_t*>(out.raw());
  const int64_t grain = std::max<int64_t>(1, (1 << 17) / static_cast<int64_t>(out_block));
  ctx.pool.parallel_for(
      outer,
      [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
          uint8_t* row = dst + o * out_block;
          for (size_t k = 0; k < block_bytes.size(); ++k) {
            const auto* src = static_cast<const uint8_t*>(ctx.inputs[k]->raw());
            std::memcpy(row, src + o * block_bytes[k], block_bytes[k]);
            row += block_bytes[k];
          }
        }
      },
      grain);
}

}  // namespace lq::kernels
