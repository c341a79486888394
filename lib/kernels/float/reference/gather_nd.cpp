#include <algorithm>
#include <cstring>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// Checks the GatherND shape rules; returns k, the length of one index tuple.
size_t index_tuple_length(const KernelContext& ctx, const Shape& dims, const Shape& index_shape,
                          size_t batch_dims) {
  if (dims.empty() || index_shape.empty()) {
    ctx.fail(StatusCode::kInvalidArgument, "data {} and indices {} must have rank >= 1",
             shape_str(dims), shape_str(index_shape));
  }
  if (batch_dims >= std::min(dims.size(), index_shape.size())) {
    ctx.fail(StatusCode::kInvalidArgument,
             "batch_dims {} must be below the ranks of data {} and indices {}", batch_dims,
             shape_str(dims), shape_str(index_shape));
  }
  for (size_t d = 0; d < batch_dims; ++d) {
    if (dims[d] != index_shape[d]) {
      ctx.fail_input(1, "batch dimension {} of indices {} differs from data {}", d,
                     shape_str(index_shape), shape_str(dims));
    }
  }
  const int64_t k = index_shape.back();
  if (k < 1 || k > static_cast<int64_t>(dims.size() - batch_dims)) {
    ctx.fail_input(1, "index tuples of length {} do not fit data {} with batch_dims {}", k,
                   shape_str(dims), batch_dims);
  }
  return static_cast<size_t>(k);
}

}  // namespace

void gather_nd(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Shape& dims = data.shape();
  const Shape& index_shape = ctx.input(1).shape();
  const int64_t batch_attr = ctx.node.attr_int("batch_dims", 0);
  if (batch_attr < 0)
    ctx.fail(StatusCode::kInvalidArgument, "batch_dims {} is negative", batch_attr);
  const auto b = static_cast<size_t>(batch_attr);
  const size_t k = index_tuple_length(ctx, dims, index_shape, b);
  const std::vector<int64_t> flat = int_list_input(ctx, 1);

  Shape out_shape(index_shape.begin(), index_shape.end() - 1);
  out_shape.insert(out_shape.end(), dims.begin() + b + k, dims.end());
  Tensor& out = ctx.make_output(0, data.dtype(), out_shape);

  const std::vector<int64_t> strides = row_major_strides(dims);
  const int64_t batch_size = b == 0 ? data.numel() : strides[b - 1];
  const int64_t rows_per_batch = shape_numel(Shape(index_shape.begin() + b, index_shape.end() - 1));
  const size_t size = dtype_size(data.dtype());
  const size_t block =
      static_cast<size_t>(shape_numel(Shape(dims.begin() + b + k, dims.end()))) * size;
  const auto* src = static_cast<const uint8_t*>(data.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  const int64_t rows = shape_numel(Shape(index_shape.begin(), index_shape.end() - 1));
  for (int64_t n = 0; n < rows; ++n) {
    int64_t offset = n / rows_per_batch * batch_size;
    for (size_t a = 0; a < k; ++a) {
      const int64_t dim = dims[b + a];
      const int64_t i = flat[static_cast<size_t>(n) * k + a];
      if (i < -dim || i >= dim) {
        ctx.fail_input(1, "index {} is out of range [{}, {}] for axis {}", i, -dim, dim - 1, b + a);
      }
      offset += (i < 0 ? i + dim : i) * strides[b + a];
    }
    std::memcpy(dst + n * block, src + offset * size, block);
  }
}

}  // namespace lq::kernels
