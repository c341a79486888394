// Integer ConvTranspose: each output position gathers the input positions and taps that
// reach it (the float reference's formulation), sums exactly in int64 and requantizes once.
#include "compiler/kernels/common.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "ConvTranspose";

struct Geometry {
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  int64_t in_per_group = 0, out_per_group = 0;
  std::vector<int64_t> input, kernel, output;
};

Geometry check(const Tensor& x, const Tensor& w, const ConvTransposeParams& p) {
  if (x.rank() < 3 || w.rank() != x.rank()) {
    detail::fail(kOp, "input {} and weight {} are not N x C x D1... and C x M/group x K1... of one rank",
                 shape_str(x.shape()), shape_str(w.shape()));
  }
  Geometry g;
  const size_t rank = x.rank() - 2;
  g.batch = x.dim(0);
  g.in_channels = x.dim(1);
  g.group = p.group;
  if (g.group < 1 || g.in_channels != w.dim(0) || g.in_channels % g.group != 0) {
    detail::fail(kOp, "weight {} does not fit {} input channels in {} groups", shape_str(w.shape()),
                 g.in_channels, g.group);
  }
  g.in_per_group = g.in_channels / g.group;
  g.out_per_group = w.dim(1);
  g.out_channels = g.out_per_group * g.group;
  g.input.assign(x.shape().begin() + 2, x.shape().end());
  g.kernel.assign(w.shape().begin() + 2, w.shape().end());
  g.output = p.output;
  if (p.strides.size() != rank || p.dilations.size() != rank || p.pads.size() != 2 * rank ||
      p.output.size() != rank) {
    detail::fail(kOp, "geometry for {} spatial axes has {} strides, {} dilations, {} pads, {} output sizes",
                 rank, p.strides.size(), p.dilations.size(), p.pads.size(), p.output.size());
  }
  for (size_t i = 0; i < rank; ++i) {
    if (p.strides[i] < 1 || p.dilations[i] < 1 || p.output[i] < 0) {
      detail::fail(kOp, "axis {}: stride {}, dilation {}, output size {}", i, p.strides[i],
                   p.dilations[i], p.output[i]);
    }
  }
  return g;
}

// Flat input offset that output `out` reads through tap `k`, or -1.
int64_t source_offset(const Geometry& g, const ConvTransposeParams& p, const std::vector<int64_t>& out,
                      const std::vector<int64_t>& k) {
  int64_t offset = 0;
  for (size_t i = 0; i < g.input.size(); ++i) {
    const int64_t scaled = out[i] + p.pads[i] - k[i] * p.dilations[i];
    if (scaled < 0 || scaled % p.strides[i] != 0) return -1;
    const int64_t pos = scaled / p.strides[i];
    if (pos >= g.input[i]) return -1;
    offset = offset * g.input[i] + pos;
  }
  return offset;
}

void unravel(int64_t flat, const std::vector<int64_t>& dims, std::vector<int64_t>& coords) {
  for (size_t i = dims.size(); i-- > 0;) {
    coords[i] = flat % dims[i];
    flat /= dims[i];
  }
}

}  // namespace

Tensor conv_transpose(const Tensor& x, const Tensor& w, const Tensor* bias,
                      const ConvTransposeParams& params, kernels::ThreadPool* pool) {
  detail::require_data(kOp, "input", x);
  detail::require_weight(kOp, "weight", w);
  const Geometry g = check(x, w, params);
  const LinearQuant& quant = params.quant;
  detail::check_linear_quant(kOp, quant, x.dtype(), w.dtype(), g.out_per_group);
  const std::vector<int64_t> bias_values = detail::read_bias(kOp, bias, g.out_channels);
  const std::vector<int32_t> xs = detail::widen(x, quant.input_zero_point);
  const std::vector<int32_t> ws = detail::widen(w, quant.weight_zero_points, 1);
  Shape out_shape = {g.batch, g.out_channels};
  out_shape.insert(out_shape.end(), g.output.begin(), g.output.end());
  const int64_t in_size = shape_numel(g.input);
  const int64_t out_size = shape_numel(g.output);
  const int64_t kernel_size = shape_numel(g.kernel);
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(out_shape)));
  auto run = [&](int64_t begin, int64_t end) {
    std::vector<int64_t> out_coords(g.output.size()), k_coords(g.kernel.size());
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t n = plane / g.out_channels;
      const int64_t m = plane % g.out_channels;
      const int64_t j = m % g.out_per_group;  // the weight's axis-1 channel
      const int64_t first = (m / g.out_per_group) * g.in_per_group;
      for (int64_t o = 0; o < out_size; ++o) {
        unravel(o, g.output, out_coords);
        int64_t acc = bias_values.empty() ? 0 : bias_values[static_cast<size_t>(m)];
        for (int64_t c = first; c < first + g.in_per_group; ++c) {
          const int32_t* x_plane = xs.data() + (n * g.in_channels + c) * in_size;
          const int32_t* w_kernel = ws.data() + (c * g.out_per_group + j) * kernel_size;
          for (int64_t k = 0; k < kernel_size; ++k) {
            unravel(k, g.kernel, k_coords);
            const int64_t offset = source_offset(g, params, out_coords, k_coords);
            if (offset >= 0) acc += int64_t{x_plane[offset]} * w_kernel[k];
          }
        }
        y[static_cast<size_t>(plane * out_size + o)] =
            detail::requantize_sum(acc, detail::channel_entry(quant.multipliers, j), quant.output);
      }
    }
  };
  if (pool != nullptr) {
    pool->parallel_for(g.batch * g.out_channels, run, 1);
  } else {
    run(0, g.batch * g.out_channels);
  }
  return detail::narrow(quant.output, out_shape, y);
}

}  // namespace lq::integer
