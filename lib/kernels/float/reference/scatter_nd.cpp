#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// Each row of the last indices axis addresses a slice data[i_0, ..., i_{k-1}, :, ...]
// that the matching slice of updates is written to (or combined with).
void scatter_nd(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Tensor& updates = ctx.input(2);
  const Shape& dims = data.shape();
  const Shape& index_shape = indices.shape();
  if (index_shape.empty()) ctx.fail_input(1, "indices must have rank >= 1, got a scalar");
  const auto k = static_cast<size_t>(index_shape.back());
  if (k > dims.size()) {
    ctx.fail_input(1, "indices address {} axes but data {} has rank {}", k, shape_str(dims),
                   dims.size());
  }
  Shape expected(index_shape.begin(), index_shape.end() - 1);
  expected.insert(expected.end(), dims.begin() + k, dims.end());
  if (updates.shape() != expected || updates.dtype() != data.dtype()) {
    ctx.fail_input(2, "updates {}{} must have shape {} and the dtype of data ({})",
                   dtype_name(updates.dtype()), shape_str(updates.shape()), shape_str(expected),
                   dtype_name(data.dtype()));
  }
  const std::vector<int64_t> flat = int_list_input(ctx, 1);
  const std::vector<int64_t> strides = row_major_strides(dims);
  const int64_t block = shape_numel(Shape(dims.begin() + k, dims.end()));
  const int64_t rows = shape_numel(Shape(index_shape.begin(), index_shape.end() - 1));
  std::vector<int64_t> offsets(static_cast<size_t>(rows), 0);
  for (size_t n = 0; n < offsets.size(); ++n) {
    for (size_t a = 0; a < k; ++a) {
      int64_t i = flat[n * k + a];
      if (i < -dims[a] || i >= dims[a]) {
        ctx.fail_input(1, "index {} is out of range [{}, {}] for axis {}", i, -dims[a], dims[a] - 1,
                       a);
      }
      offsets[n] += (i < 0 ? i + dims[a] : i) * strides[a];
    }
  }
  Tensor& out = ctx.outputs[0];
  out = data.clone();
  scatter_blocks(ctx, scatter_reduction(ctx), updates, offsets, block, out);
}

}  // namespace lq::kernels
