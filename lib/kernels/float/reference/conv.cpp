// Conv: plain loops over every output element, any spatial rank and group.
#include "kernels/float/reference/conv.hpp"

#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels {

ConvGeometry resolve_conv(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const std::vector<int64_t> input = spatial_dims(ctx, 0);
  if (w.rank() != x.rank()) {
    ctx.fail_input(1, "weight shape {} has rank {}, expected {} (M x C/group x kernel...)",
                   shape_str(w.shape()), w.rank(), x.rank());
  }
  if (w.dtype() != x.dtype()) {
    ctx.fail_input(1, "weight dtype {} differs from the input dtype {}", dtype_name(w.dtype()),
                   dtype_name(x.dtype()));
  }
  ConvGeometry g;
  g.batch = x.dim(0);
  g.in_channels = x.dim(1);
  g.out_channels = w.dim(0);
  g.group = ctx.node.attr_int("group", 1);
  if (g.group < 1) ctx.fail(StatusCode::kInvalidModel, "group is {}, expected >= 1", g.group);
  if (g.in_channels != w.dim(1) * g.group) {
    ctx.fail_input(1, "weight shape {} expects {} x {} = {} input channels, the input {} has {}",
                   shape_str(w.shape()), w.dim(1), g.group, w.dim(1) * g.group,
                   shape_str(x.shape()), g.in_channels);
  }
  if (g.out_channels % g.group != 0) {
    ctx.fail_input(1, "weight shape {} has {} output channels, not divisible by group {}",
                   shape_str(w.shape()), g.out_channels, g.group);
  }
  if (ctx.has_input(2)) {
    const Tensor& b = ctx.input(2);
    if (b.rank() != 1 || b.dim(0) != g.out_channels || b.dtype() != x.dtype()) {
      ctx.fail_input(2, "bias is {}{}, expected {}[{}]", dtype_name(b.dtype()),
                     shape_str(b.shape()), dtype_name(x.dtype()), g.out_channels);
    }
  }
  const std::vector<int64_t> from_weights(w.shape().begin() + 2, w.shape().end());
  for (int64_t k : from_weights) {
    if (k < 1) ctx.fail_input(1, "weight shape {} has an empty kernel", shape_str(w.shape()));
  }
  g.window = resolve_window(ctx, input, read_kernel_shape(ctx, input.size(), from_weights));
  g.output_shape = {g.batch, g.out_channels};
  g.output_shape.insert(g.output_shape.end(), g.window.output.begin(), g.window.output.end());
  return g;
}

namespace {

template <typename T>
void conv_typed(KernelContext& ctx, const ConvGeometry& g) {
  const Window& win = g.window;
  const T* x = ctx.input(0).data<T>();
  const T* w = ctx.input(1).data<T>();
  const T* bias = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
  T* y = ctx.make_output(0, ctx.input(0).dtype(), g.output_shape).template data<T>();
  const int64_t in_size = shape_numel(win.input);
  const int64_t out_size = shape_numel(win.output);
  const int64_t kernel_size = shape_numel(win.kernel);
  // One task per (image, output channel) plane.
  ctx.pool.parallel_for(g.batch * g.out_channels, [&](int64_t begin, int64_t end) {
    WindowTaps window_taps(win);
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t n = plane / g.out_channels;
      const int64_t m = plane % g.out_channels;
      const int64_t first_channel = (m / g.out_per_group()) * g.in_per_group();
      for (int64_t o = 0; o < out_size; ++o) {
        const std::vector<WindowTaps::Tap>& taps = window_taps.inside(o);
        T acc = bias ? bias[m] : T(0);
        for (int64_t c = 0; c < g.in_per_group(); ++c) {
          const T* x_plane = x + (n * g.in_channels + first_channel + c) * in_size;
          const T* w_kernel = w + (m * g.in_per_group() + c) * kernel_size;
          for (const WindowTaps::Tap& tap : taps) {
            acc += x_plane[tap.input_offset] * w_kernel[tap.kernel_index];
          }
        }
        y[plane * out_size + o] = acc;
      }
    }
  });
}

}  // namespace

void conv(KernelContext& ctx) {
  ctx.require_dtype(0, {DType::kFloat32, DType::kFloat64});
  const ConvGeometry g = resolve_conv(ctx);
  if (ctx.input(0).dtype() == DType::kFloat64) {
    conv_typed<double>(ctx, g);
  } else {
    conv_typed<float>(ctx, g);
  }
}

}  // namespace lq::kernels
