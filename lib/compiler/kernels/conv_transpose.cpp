// Integer ConvTranspose, sums exact in int64 and requantized once. The reference gathers,
// for each output position, the input positions and taps that reach it (the float
// kernel's formulation); conv_transpose scatters each input element through the taps it
// reaches (no stride tests in the inner loop, and zero offsets skipped), with the same sums.
#include <algorithm>
#include <functional>

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

namespace {

// The checked operands and widened values shared by both formulations.
struct Prepared {
  Geometry g;
  std::vector<int64_t> bias;
  std::vector<int32_t> xs, ws;
  Shape out_shape;
  int64_t in_size = 0, out_size = 0, kernel_size = 0;
};

Prepared prepare(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvTransposeParams& params) {
  detail::require_data(kOp, "input", x);
  detail::require_weight(kOp, "weight", w);
  Prepared p;
  p.g = check(x, w, params);
  detail::check_linear_quant(kOp, params.quant, x.dtype(), w.dtype(), p.g.out_per_group);
  p.bias = detail::read_bias(kOp, bias, p.g.out_channels);
  p.xs = detail::widen(x, params.quant.input_zero_point);
  p.ws = detail::widen(w, params.quant.weight_zero_points, 1);
  p.out_shape = {p.g.batch, p.g.out_channels};
  p.out_shape.insert(p.out_shape.end(), p.g.output.begin(), p.g.output.end());
  p.in_size = shape_numel(p.g.input);
  p.out_size = shape_numel(p.g.output);
  p.kernel_size = shape_numel(p.g.kernel);
  return p;
}

// Runs plane(begin, end) over the batch × output-channel planes, on the pool if given.
void for_planes(const Prepared& p, kernels::ThreadPool* pool, const std::function<void(int64_t, int64_t)>& plane) {
  const int64_t planes = p.g.batch * p.g.out_channels;
  if (pool != nullptr) {
    pool->parallel_for(planes, plane, 1);
  } else {
    plane(0, planes);
  }
}

// Per spatial axis and input index: the (tap, output index) pairs that input index reaches.
using Reach = std::vector<std::vector<std::pair<int64_t, int64_t>>>;

std::vector<Reach> reach_of(const Geometry& g, const ConvTransposeParams& params) {
  std::vector<Reach> reach(g.input.size());
  for (size_t d = 0; d < g.input.size(); ++d) {
    reach[d].resize(static_cast<size_t>(g.input[d]));
    for (int64_t i = 0; i < g.input[d]; ++i) {
      for (int64_t k = 0; k < g.kernel[d]; ++k) {
        const int64_t o = i * params.strides[d] + k * params.dilations[d] - params.pads[d];
        if (o >= 0 && o < g.output[d]) reach[d][static_cast<size_t>(i)].emplace_back(k, o);
      }
    }
  }
  return reach;
}

// acc[o] += x × w[k] for every tap k of input position `in` (coordinates) and its output o.
void scatter(const std::vector<Reach>& reach, const Geometry& g, const std::vector<int64_t>& in,
             size_t axis, int64_t k_offset, int64_t o_offset, int64_t x, const int32_t* w, int64_t* acc) {
  if (axis == reach.size()) {
    acc[o_offset] += x * w[k_offset];
    return;
  }
  for (const auto& [k, o] : reach[axis][static_cast<size_t>(in[axis])]) {
    scatter(reach, g, in, axis + 1, k_offset * g.kernel[axis] + k, o_offset * g.output[axis] + o, x,
            w, acc);
  }
}

}  // namespace

Tensor conv_transpose_reference(const Tensor& x, const Tensor& w, const Tensor* bias,
                                const ConvTransposeParams& params, kernels::ThreadPool* pool) {
  const Prepared p = prepare(x, w, bias, params);
  const Geometry& g = p.g;
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(p.out_shape)));
  for_planes(p, pool, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> out_coords(g.output.size()), k_coords(g.kernel.size());
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t n = plane / g.out_channels;
      const int64_t m = plane % g.out_channels;
      const int64_t j = m % g.out_per_group;  // the weight's axis-1 channel
      const int64_t first = (m / g.out_per_group) * g.in_per_group;
      for (int64_t o = 0; o < p.out_size; ++o) {
        unravel(o, g.output, out_coords);
        int64_t acc = p.bias.empty() ? 0 : p.bias[static_cast<size_t>(m)];
        for (int64_t c = first; c < first + g.in_per_group; ++c) {
          const int32_t* x_plane = p.xs.data() + (n * g.in_channels + c) * p.in_size;
          const int32_t* w_kernel = p.ws.data() + (c * g.out_per_group + j) * p.kernel_size;
          for (int64_t k = 0; k < p.kernel_size; ++k) {
            unravel(k, g.kernel, k_coords);
            const int64_t offset = source_offset(g, params, out_coords, k_coords);
            if (offset >= 0) acc += int64_t{x_plane[offset]} * w_kernel[k];
          }
        }
        y[static_cast<size_t>(plane * p.out_size + o)] = detail::requantize_sum(
            acc, detail::channel_entry(params.quant.multipliers, j), params.quant.output);
      }
    }
  });
  return detail::narrow(params.quant.output, p.out_shape, y);
}

Tensor conv_transpose(const Tensor& x, const Tensor& w, const Tensor* bias,
                      const ConvTransposeParams& params, kernels::ThreadPool* pool) {
  const Prepared p = prepare(x, w, bias, params);
  const Geometry& g = p.g;
  const std::vector<Reach> reach = reach_of(g, params);
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(p.out_shape)));
  for_planes(p, pool, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> acc(static_cast<size_t>(p.out_size));
    std::vector<int64_t> in(g.input.size());
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t n = plane / g.out_channels;
      const int64_t m = plane % g.out_channels;
      const int64_t j = m % g.out_per_group;
      const int64_t first = (m / g.out_per_group) * g.in_per_group;
      std::fill(acc.begin(), acc.end(), p.bias.empty() ? 0 : p.bias[static_cast<size_t>(m)]);
      for (int64_t c = first; c < first + g.in_per_group; ++c) {
        const int32_t* x_plane = p.xs.data() + (n * g.in_channels + c) * p.in_size;
        const int32_t* w_kernel = p.ws.data() + (c * g.out_per_group + j) * p.kernel_size;
        for (int64_t i = 0; i < p.in_size; ++i) {
          if (x_plane[i] == 0) continue;  // the input's zero point contributes nothing
          unravel(i, g.input, in);
          scatter(reach, g, in, 0, 0, 0, x_plane[i], w_kernel, acc.data());
        }
      }
      for (int64_t o = 0; o < p.out_size; ++o) {
        y[static_cast<size_t>(plane * p.out_size + o)] = detail::requantize_sum(
            acc[static_cast<size_t>(o)], detail::channel_entry(params.quant.multipliers, j), params.quant.output);
      }
    }
  });
  return detail::narrow(params.quant.output, p.out_shape, y);
}

}  // namespace lq::integer
