#include <algorithm>
#include <cstring>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// The length of each output along the axis: the `split` attribute (before opset 13)
// or input (since), else equal parts; opset 18 allows an uneven, smaller last part.
std::vector<int64_t> split_lengths(const KernelContext& ctx, int64_t dim) {
  const auto outputs = static_cast<int64_t>(ctx.num_outputs());
  std::vector<int64_t> lengths;
  if (ctx.opset < 13 && ctx.node.has_attr("split")) {
    lengths = ctx.node.attr_ints("split");
  } else if (ctx.opset >= 13 && ctx.has_input(1)) {
    lengths = int_list_input(ctx, 1);
  }
  if (!lengths.empty()) {
    int64_t total = 0;
    for (int64_t length : lengths) {
      if (length < 0)
        ctx.fail(StatusCode::kInvalidArgument, "split {} has a negative length",
                 shape_str(lengths));
      total += length;
    }
    if (static_cast<int64_t>(lengths.size()) != outputs || total != dim) {
      ctx.fail(StatusCode::kInvalidArgument,
               "split {} must have one length per output ({}) summing to the axis size {}",
               shape_str(lengths), outputs, dim);
    }
    return lengths;
  }
  if (ctx.opset >= 18 && ctx.node.has_attr("num_outputs") &&
      ctx.node.attr_int("num_outputs", 0) != outputs) {
    ctx.fail(StatusCode::kInvalidModel, "num_outputs is {} but the node has {} outputs",
             ctx.node.attr_int("num_outputs", 0), outputs);
  }
  if (ctx.opset < 18 && dim % outputs != 0) {
    ctx.fail(StatusCode::kInvalidArgument,
             "axis size {} does not split into {} equal parts (give split lengths)", dim, outputs);
  }
  const int64_t chunk = (dim + outputs - 1) / outputs;
  for (int64_t k = 0; k < outputs; ++k) {
    lengths.push_back(std::max<int64_t>(0, std::min(chunk, dim - k * chunk)));
  }
  return lengths;
}

}  // namespace

void split(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Shape& dims = data.shape();
  const auto axis = static_cast<size_t>(
      normalize_axis(ctx, ctx.node.attr_int("axis", 0), static_cast<int64_t>(dims.size()), "axis"));
  const std::vector<int64_t> lengths = split_lengths(ctx, dims[axis]);
  const int64_t outer = shape_numel(Shape(dims.begin(), dims.begin() + axis));
  const int64_t inner = shape_numel(Shape(dims.begin() + axis + 1, dims.end()));
  const size_t element_size = dtype_size(data.dtype());
  const auto* src = static_cast<const uint8_t*>(data.raw());
  const size_t in_row = static_cast<size_t>(dims[axis] * inner) * element_size;
  size_t row_offset = 0;
  for (size_t k = 0; k < lengths.size(); ++k) {
    Shape out_shape = dims;
    out_shape[axis] = lengths[k];
    Tensor& out = ctx.make_output(k, data.dtype(), out_shape);
    const size_t out_row = static_cast<size_t>(lengths[k] * inner) * element_size;
    auto* dst = static_cast<uint8_t*>(out.raw());
    for (int64_t o = 0; o < outer && out_row > 0; ++o) {
      std::memcpy(dst + o * out_row, src + o * in_row + row_offset, out_row);
    }
    row_offset += out_row;
  }
}

}  // namespace lq::kernels
