// MaxPool: the largest input element under each window (padding excluded), with
// the optional Indices output (flat index into X, row- or column-major spatially).
#include <limits>

#include "kernels/float/reference/nn_kernels.hpp"
#include "kernels/float/reference/window.hpp"

namespace lq::kernels {

namespace {

// Spatial strides of X in the index order selected by storage_order.
std::vector<int64_t> index_strides(const std::vector<int64_t>& input, bool column_major) {
  const size_t rank = input.size();
  std::vector<int64_t> strides(rank, 1);
  if (column_major) {
    for (size_t i = 1; i < rank; ++i) strides[i] = strides[i - 1] * input[i - 1];
  } else {
    for (size_t i = rank - 1; i-- > 0;) strides[i] = strides[i + 1] * input[i + 1];
  }
  return strides;
}

template <typename T>
void max_pool_typed(KernelContext& ctx, const Window& win, bool column_major) {
  const Tensor& x_tensor = ctx.input(0);
  const T* x = x_tensor.data<T>();
  Shape out_shape = {x_tensor.dim(0), x_tensor.dim(1)};
  out_shape.insert(out_shape.end(), win.output.begin(), win.output.end());
  T* y = ctx.make_output(0, x_tensor.dtype(), out_shape).template data<T>();
  int64_t* indices = ctx.num_outputs() > 1
                         ? ctx.make_output(1, DType::kInt64, out_shape).data<int64_t>()
                         : nullptr;
  const std::vector<int64_t> idx_strides = index_strides(win.input, column_major);
  const int64_t in_size = shape_numel(win.input);
  const int64_t out_size = shape_numel(win.output);
  const int64_t kernel_size = shape_numel(win.kernel);
  const size_t rank = win.rank();
  ctx.pool.parallel_for(x_tensor.dim(0) * x_tensor.dim(1), [&](int64_t begin, int64_t end) {
    std::vector<int64_t> out_coords(rank), k_coords(rank);
    for (int64_t plane = begin; plane < end; ++plane) {
      const T* x_plane = x + plane * in_size;
      for (int64_t o = 0; o < out_size; ++o) {
        unravel_index(o, win.output, out_coords);
        // An all-padding window yields the lowest value and index -1, as in ORT.
        T best = std::numeric_limits<T>::lowest();
        int64_t best_index = -1;
        bool found = false;
        for (int64_t k = 0; k < kernel_size; ++k) {
          unravel_index(k, win.kernel, k_coords);
          int64_t offset = 0, index = 0;
          bool inside = true;
          for (size_t i = 0; i < rank && inside; ++i) {
            const int64_t pos =
                out_coords[i] * win.strides[i] - win.pads_begin[i] + k_coords[i] * win.dilations[i];
            inside = pos >= 0 && pos < win.input[i];
            offset = offset * win.input[i] + pos;
            index += pos * idx_strides[i];
          }
          if (!inside) continue;
          const T v = x_plane[offset];
          if (!found || v > best) {
            best = v;
            best_index = index;
            found = true;
          }
        }
        y[plane * out_size + o] = best;
        if (indices) {
          indices[plane * out_size + o] = best_index < 0 ? -1 : plane * in_size + best_index;
        }
      }
    }
  });
}

}  // namespace

void max_pool(KernelContext& ctx) {
  ctx.require_dtype(0, {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kUInt8});
  const std::vector<int64_t> input = spatial_dims(ctx, 0);
  WindowOptions options;
  options.ceil_mode = ctx.node.attr_int("ceil_mode", 0) != 0;
  const Window win = resolve_window(ctx, input, read_kernel_shape(ctx, input.size(), {}), options);
  const int64_t storage_order = ctx.node.attr_int("storage_order", 0);
  if (storage_order != 0 && storage_order != 1) {
    ctx.fail(StatusCode::kInvalidModel, "storage_order is {}, expected 0 or 1", storage_order);
  }
  switch (ctx.input(0).dtype()) {
    case DType::kFloat64:
      return max_pool_typed<double>(ctx, win, storage_order == 1);
    case DType::kInt8:
      return max_pool_typed<int8_t>(ctx, win, storage_order == 1);
    case DType::kUInt8:
      return max_pool_typed<uint8_t>(ctx, win, storage_order == 1);
    default:
      return max_pool_typed<float>(ctx, win, storage_order == 1);
  }
}

}  // namespace lq::kernels
