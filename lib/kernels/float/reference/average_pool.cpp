// AveragePool: the mean of each window, dividing by the input elements it covers
// or, with count_include_pad, also by the explicit padding it covers.
#include "kernels/float/reference/nn_kernels.hpp"
#include "kernels/float/reference/window.hpp"

namespace lq::kernels {

namespace {

template <typename T>
void average_pool_typed(KernelContext& ctx, const Window& win, bool count_include_pad) {
  const Tensor& x_tensor = ctx.input(0);
  const T* x = x_tensor.data<T>();
  Shape out_shape = {x_tensor.dim(0), x_tensor.dim(1)};
  out_shape.insert(out_shape.end(), win.output.begin(), win.output.end());
  T* y = ctx.make_output(0, x_tensor.dtype(), out_shape).template data<T>();
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
        T sum = 0;
        int64_t count = 0;
        for (int64_t k = 0; k < kernel_size; ++k) {
          unravel_index(k, win.kernel, k_coords);
          int64_t offset = 0;
          bool inside = true, inside_padded = true;
          for (size_t i = 0; i < rank; ++i) {
            const int64_t pos =
                out_coords[i] * win.strides[i] - win.pads_begin[i] + k_coords[i] * win.dilations[i];
            inside = inside && pos >= 0 && pos < win.input[i];
            inside_padded = inside_padded && pos < win.input[i] + win.pads_end[i];
            offset = offset * win.input[i] + pos;
          }
          if (inside) sum += x_plane[offset];
          if (inside || (count_include_pad && inside_padded)) ++count;
        }
        // Only a window made entirely of padding has nothing to average.
        y[plane * out_size + o] = count > 0 ? sum / static_cast<T>(count) : T(0);
      }
    }
  });
}

}  // namespace

void average_pool(KernelContext& ctx) {
  ctx.require_dtype(0, {DType::kFloat32, DType::kFloat64});
  const std::vector<int64_t> input = spatial_dims(ctx, 0);
  WindowOptions options;
  options.ceil_mode = ctx.node.attr_int("ceil_mode", 0) != 0;
  options.allow_dilations = ctx.opset >= 19;  // dilations came with AveragePool-19
  const Window win = resolve_window(ctx, input, read_kernel_shape(ctx, input.size(), {}), options);
  const bool count_include_pad = ctx.node.attr_int("count_include_pad", 0) != 0;
  if (ctx.input(0).dtype() == DType::kFloat64) {
    average_pool_typed<double>(ctx, win, count_include_pad);
  } else {
    average_pool_typed<float>(ctx, win, count_include_pad);
  }
}

}  // namespace lq::kernels
