// Integer Conv: NCHW (any spatial rank), groups (depthwise included), strides, pads,
// dilations; per-channel weight zero points and multipliers.
#include "compiler/kernels/common.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Conv";

struct ConvShape {
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  int64_t in_per_group = 0, out_per_group = 0;
  int64_t in_size = 0, out_size = 0, kernel_size = 0;
};

ConvShape check_shapes(const Tensor& x, const Tensor& w, int64_t group) {
  if (x.rank() < 3) {
    detail::fail(kOp, "input shape {} has rank {}, expected N x C x D1... (rank >= 3)",
                 shape_str(x.shape()), x.rank());
  }
  if (w.rank() != x.rank()) {
    detail::fail(kOp, "weight shape {} has rank {}, expected {} like the input {}",
                 shape_str(w.shape()), w.rank(), x.rank(), shape_str(x.shape()));
  }
  ConvShape s;
  s.batch = x.dim(0);
  s.in_channels = x.dim(1);
  s.out_channels = w.dim(0);
  s.group = group;
  if (group < 1 || s.in_channels % group != 0 || s.out_channels % group != 0) {
    detail::fail(kOp, "group {} does not divide the {} input and {} output channels", group,
                 s.in_channels, s.out_channels);
  }
  s.in_per_group = s.in_channels / group;
  s.out_per_group = s.out_channels / group;
  if (w.dim(1) != s.in_per_group) {
    detail::fail(kOp, "weight shape {} has {} input channels, expected {} (C {} / group {})",
                 shape_str(w.shape()), w.dim(1), s.in_per_group, s.in_channels, group);
  }
  return s;
}

template <typename Acc>
void conv_positions(const ConvShape& s, const kernels::Window& win, const int32_t* x,
                    const int32_t* w, const std::vector<int64_t>& bias, const LinearQuant& quant,
                    int32_t* y, int64_t begin, int64_t end) {
  kernels::WindowTaps taps_of(win);
  for (int64_t item = begin; item < end; ++item) {
    const int64_t o = item % s.out_size;
    const int64_t image_group = item / s.out_size;
    const int64_t g = image_group % s.group;
    const int64_t n = image_group / s.group;
    const auto& taps = taps_of.inside(o);
    const int32_t* x_group = x + (n * s.in_channels + g * s.in_per_group) * s.in_size;
    for (int64_t mg = 0; mg < s.out_per_group; ++mg) {
      const int64_t m = g * s.out_per_group + mg;
      Acc acc = bias.empty() ? 0 : static_cast<Acc>(bias[static_cast<size_t>(m)]);
      for (int64_t c = 0; c < s.in_per_group; ++c) {
        const int32_t* x_plane = x_group + c * s.in_size;
        const int32_t* w_row = w + (m * s.in_per_group + c) * s.kernel_size;
        for (const auto& tap : taps) {
          acc += Acc{x_plane[tap.input_offset]} * w_row[tap.kernel_index];
        }
      }
      y[(n * s.out_channels + m) * s.out_size + o] =
          detail::requantize_sum(acc, detail::channel_entry(quant.multipliers, m), quant.output);
    }
  }
}

}  // namespace

Tensor conv(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvParams& params,
            kernels::ThreadPool* pool) {
  detail::require_data(kOp, "input", x);
  detail::require_weight(kOp, "weight", w);
  ConvShape s = check_shapes(x, w, params.group);
  const LinearQuant& quant = params.quant;
  detail::check_linear_quant(kOp, quant, x.dtype(), w.dtype(), s.out_channels);
  const std::vector<int64_t> bias_values = detail::read_bias(kOp, bias, s.out_channels);

  const std::vector<int64_t> input(x.shape().begin() + 2, x.shape().end());
  const std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  const kernels::Window win =
      detail::make_window(kOp, input, kernel, params.strides, params.dilations, params.pads, false);
  s.in_size = shape_numel(win.input);
  s.out_size = shape_numel(win.output);
  s.kernel_size = shape_numel(win.kernel);
  Shape out_shape = {s.batch, s.out_channels};
  out_shape.insert(out_shape.end(), win.output.begin(), win.output.end());

  const std::vector<int32_t> xs = detail::widen(x, quant.input_zero_point);
  const std::vector<int32_t> ws = detail::widen(w, quant.weight_zero_points, 0);
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(out_shape)));
  const bool wide = detail::linear_needs_int64(quant, x.dtype(), w.dtype(),
                                               s.in_per_group * s.kernel_size, bias_values);
  auto run = [&](int64_t begin, int64_t end) {
    if (wide) {
      conv_positions<int64_t>(s, win, xs.data(), ws.data(), bias_values, quant, y.data(), begin,
                              end);
    } else {
      conv_positions<int32_t>(s, win, xs.data(), ws.data(), bias_values, quant, y.data(), begin,
                              end);
    }
  };
  const int64_t items = s.batch * s.group * s.out_size;
  if (pool != nullptr) {
    pool->parallel_for(items, run, 16);
  } else {
    run(0, items);
  }
  return detail::narrow(quant.output, out_shape, y);
}

}  // namespace lq::integer
