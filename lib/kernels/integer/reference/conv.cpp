// Integer Conv: NCHW (any spatial rank), groups (depthwise included), strides, pads,
// dilations; per-channel weight zero points and multipliers. conv runs the optimized
// kernels (optimized/conv.cpp) where they apply; conv_reference is the loop below.
#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/linear.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Conv";

// Each output position's window taps are computed once and serve every group.
template <typename Acc>
void conv_positions(const detail::ConvProblem& s, const int32_t* x, const int32_t* w,
                    const LinearQuant& quant, int32_t* y, int64_t begin, int64_t end) {
  kernels::WindowTaps taps_of(s.window);
  for (int64_t item = begin; item < end; ++item) {
    const int64_t o = item % s.out_size;
    const int64_t n = item / s.out_size;
    const auto& taps = taps_of.inside(o);
    for (int64_t m = 0; m < s.out_channels; ++m) {
      const int64_t g = m / s.out_per_group;
      const int32_t* x_group = x + (n * s.in_channels + g * s.in_per_group) * s.in_size;
      Acc acc = s.bias.empty() ? 0 : static_cast<Acc>(s.bias[static_cast<size_t>(m)]);
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

Tensor reference_conv(const detail::ConvProblem& s, const Tensor& x, const Tensor& w,
                      const LinearQuant& quant, kernels::ThreadPool* pool) {
  const std::vector<int32_t> xs = detail::widen(x, quant.input_zero_point);
  const std::vector<int32_t> ws = detail::widen(w, quant.weight_zero_points, 0);
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(s.out_shape)));
  auto run = [&](int64_t begin, int64_t end) {
    if (s.wide) {
      conv_positions<int64_t>(s, xs.data(), ws.data(), quant, y.data(), begin, end);
    } else {
      conv_positions<int32_t>(s, xs.data(), ws.data(), quant, y.data(), begin, end);
    }
  };
  const int64_t items = s.batch * s.out_size;
  if (pool != nullptr) {
    pool->parallel_for(items, run, 16);
  } else {
    run(0, items);
  }
  return detail::narrow(quant.output, s.out_shape, y);
}

}  // namespace

namespace detail {

ConvProblem conv_problem(const Tensor& x, const Tensor& w, const Tensor* bias,
                         const ConvParams& params) {
  require_data(kOp, "input", x);
  require_weight(kOp, "weight", w);
  if (x.rank() < 3) {
    fail(kOp, "input shape {} has rank {}, expected N x C x D1... (rank >= 3)",
         shape_str(x.shape()), x.rank());
  }
  if (w.rank() != x.rank()) {
    fail(kOp, "weight shape {} has rank {}, expected {} like the input {}", shape_str(w.shape()),
         w.rank(), x.rank(), shape_str(x.shape()));
  }
  ConvProblem s;
  s.batch = x.dim(0);
  s.in_channels = x.dim(1);
  s.out_channels = w.dim(0);
  s.group = params.group;
  if (s.group < 1 || s.in_channels % s.group != 0 || s.out_channels % s.group != 0) {
    fail(kOp, "group {} does not divide the {} input and {} output channels", s.group,
         s.in_channels, s.out_channels);
  }
  s.in_per_group = s.in_channels / s.group;
  s.out_per_group = s.out_channels / s.group;
  if (w.dim(1) != s.in_per_group) {
    fail(kOp, "weight shape {} has {} input channels, expected {} (C {} / group {})",
         shape_str(w.shape()), w.dim(1), s.in_per_group, s.in_channels, s.group);
  }
  const LinearQuant& quant = params.quant;
  check_linear_quant(kOp, quant, x.dtype(), w.dtype(), s.out_channels);
  s.bias = read_bias(kOp, bias, s.out_channels);

  const std::vector<int64_t> input(x.shape().begin() + 2, x.shape().end());
  const std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  s.window = make_window(kOp, input, kernel, params.strides, params.dilations, params.pads, false);
  s.in_size = shape_numel(s.window.input);
  s.out_size = shape_numel(s.window.output);
  s.kernel_size = shape_numel(s.window.kernel);
  s.out_shape = {s.batch, s.out_channels};
  s.out_shape.insert(s.out_shape.end(), s.window.output.begin(), s.window.output.end());
  s.wide = linear_needs_int64(quant, x.dtype(), w.dtype(), s.in_per_group * s.kernel_size, s.bias);
  return s;
}

}  // namespace detail

Tensor conv(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvParams& params,
            kernels::ThreadPool* pool) {
  const detail::ConvProblem s = detail::conv_problem(x, w, bias, params);
  if (std::optional<Tensor> y = optimized::conv(s, x, w, params.quant, pool)) return *y;
  return reference_conv(s, x, w, params.quant, pool);
}

Tensor conv_reference(const Tensor& x, const Tensor& w, const Tensor* bias,
                      const ConvParams& params, kernels::ThreadPool* pool) {
  return reference_conv(detail::conv_problem(x, w, bias, params), x, w, params.quant, pool);
}

const IntegerKernel& conv_kernel() {
  static const IntegerKernel k = make_kernel<ConvParams>(
      {"Conv", 1, "conv", [](const KernelArgs& a, const ConvParams& p) {
         return single(conv(a.in(0), a.in(1), a.optional(2), p, a.pool));
       }});
  return k;
}

}  // namespace lq::integer
