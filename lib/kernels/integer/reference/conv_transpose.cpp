// Integer ConvTranspose, sums exact and requantized once. The reference gathers, for each
// output position, the input positions and taps that reach it (the float kernel's
// formulation), in int64. conv_transpose runs the optimized kernel
// (optimized/conv_transpose.cpp: a product of 8-bit operands with int32 sums, scattered
// by output rows) where it applies, else scatters each input element through the taps it
// reaches (no stride tests in the inner loop, zero offsets skipped), with the same sums.
#include <algorithm>
#include <functional>

#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/linear.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "ConvTranspose";

using Problem = detail::ConvTransposeProblem;

// Flat input offset that output `out` reads through tap `k`, or -1.
int64_t source_offset(const Problem& g, const std::vector<int64_t>& out,
                      const std::vector<int64_t>& k) {
  int64_t offset = 0;
  for (size_t i = 0; i < g.input.size(); ++i) {
    const int64_t scaled = out[i] + g.pads[i] - k[i] * g.dilations[i];
    if (scaled < 0 || scaled % g.strides[i] != 0) return -1;
    const int64_t pos = scaled / g.strides[i];
    if (pos >= g.input[i]) return -1;
    offset = offset * g.input[i] + pos;
  }
  return offset;
}

// The widened input and weight offsets both loop formulations read.
struct Widened {
  std::vector<int32_t> xs, ws;
};

Widened widened(const Tensor& x, const Tensor& w, const LinearQuant& quant) {
  return {detail::widen(x, quant.input_zero_point), detail::widen(w, quant.weight_zero_points, 1)};
}

// Runs plane(begin, end) over the batch × output-channel planes, on the pool if given.
void for_planes(const Problem& g, kernels::ThreadPool* pool,
                const std::function<void(int64_t, int64_t)>& plane) {
  const int64_t planes = g.batch * g.out_channels;
  if (pool != nullptr) {
    pool->parallel_for(planes, plane, 1);
  } else {
    plane(0, planes);
  }
}

// Per spatial axis and input index: the (tap, output index) pairs that input index reaches.
using Reach = std::vector<std::vector<std::pair<int64_t, int64_t>>>;

std::vector<Reach> reach_of(const Problem& g) {
  std::vector<Reach> reach(g.input.size());
  for (size_t d = 0; d < g.input.size(); ++d) {
    reach[d].resize(static_cast<size_t>(g.input[d]));
    for (int64_t i = 0; i < g.input[d]; ++i) {
      for (int64_t k = 0; k < g.kernel[d]; ++k) {
        const int64_t o = i * g.strides[d] + k * g.dilations[d] - g.pads[d];
        if (o >= 0 && o < g.output[d]) reach[d][static_cast<size_t>(i)].emplace_back(k, o);
      }
    }
  }
  return reach;
}

// acc[o] += x × w[k] for every tap k of input position `in` (coordinates) and its output o.
void scatter(const std::vector<Reach>& reach, const Problem& g, const std::vector<int64_t>& in,
             size_t axis, int64_t k_offset, int64_t o_offset, int64_t x, const int32_t* w,
             int64_t* acc) {
  if (axis == reach.size()) {
    acc[o_offset] += x * w[k_offset];
    return;
  }
  for (const auto& [k, o] : reach[axis][static_cast<size_t>(in[axis])]) {
    scatter(reach, g, in, axis + 1, k_offset * g.kernel[axis] + k, o_offset * g.output[axis] + o, x,
            w, acc);
  }
}

Tensor scatter_conv_transpose(const Problem& g, const Tensor& x, const Tensor& w,
                              const LinearQuant& quant, kernels::ThreadPool* pool) {
  const Widened v = widened(x, w, quant);
  const std::vector<Reach> reach = reach_of(g);
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(g.out_shape)));
  for_planes(g, pool, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> acc(static_cast<size_t>(g.out_size));
    std::vector<int64_t> in(g.input.size());
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t n = plane / g.out_channels;
      const int64_t m = plane % g.out_channels;
      const int64_t j = m % g.out_per_group;
      const int64_t first = (m / g.out_per_group) * g.in_per_group;
      std::fill(acc.begin(), acc.end(), g.bias.empty() ? 0 : g.bias[static_cast<size_t>(m)]);
      for (int64_t c = first; c < first + g.in_per_group; ++c) {
        const int32_t* x_plane = v.xs.data() + (n * g.in_channels + c) * g.in_size;
        const int32_t* w_kernel = v.ws.data() + (c * g.out_per_group + j) * g.kernel_size;
        for (int64_t i = 0; i < g.in_size; ++i) {
          if (x_plane[i] == 0) continue;  // the input's zero point contributes nothing
          kernels::unravel_index(i, g.input, in);
          scatter(reach, g, in, 0, 0, 0, x_plane[i], w_kernel, acc.data());
        }
      }
      for (int64_t o = 0; o < g.out_size; ++o) {
        y[static_cast<size_t>(plane * g.out_size + o)] = detail::requantize_sum(
            acc[static_cast<size_t>(o)], detail::channel_entry(quant.multipliers, j), quant.output);
      }
    }
  });
  return detail::narrow(quant.output, g.out_shape, y);
}

}  // namespace

namespace detail {

ConvTransposeProblem conv_transpose_problem(const Tensor& x, const Tensor& w, const Tensor* bias,
                                            const ConvTransposeParams& p) {
  require_data(kOp, "input", x);
  require_weight(kOp, "weight", w);
  if (x.rank() < 3 || w.rank() != x.rank()) {
    fail(kOp, "input {} and weight {} are not N x C x D1... and C x M/group x K1... of one rank",
         shape_str(x.shape()), shape_str(w.shape()));
  }
  ConvTransposeProblem g;
  const size_t rank = x.rank() - 2;
  g.batch = x.dim(0);
  g.in_channels = x.dim(1);
  g.group = p.group;
  if (g.group < 1 || g.in_channels != w.dim(0) || g.in_channels % g.group != 0) {
    fail(kOp, "weight {} does not fit {} input channels in {} groups", shape_str(w.shape()),
         g.in_channels, g.group);
  }
  g.in_per_group = g.in_channels / g.group;
  g.out_per_group = w.dim(1);
  g.out_channels = g.out_per_group * g.group;
  g.input.assign(x.shape().begin() + 2, x.shape().end());
  g.kernel.assign(w.shape().begin() + 2, w.shape().end());
  if (p.strides.size() != rank || p.dilations.size() != rank || p.pads.size() != 2 * rank ||
      p.output.size() != rank) {
    fail(kOp, "geometry for {} spatial axes has {} strides, {} dilations, {} pads, {} output sizes",
         rank, p.strides.size(), p.dilations.size(), p.pads.size(), p.output.size());
  }
  for (size_t i = 0; i < rank; ++i) {
    if (p.strides[i] < 1 || p.dilations[i] < 1 || p.output[i] < 0) {
      fail(kOp, "axis {}: stride {}, dilation {}, output size {}", i, p.strides[i], p.dilations[i],
           p.output[i]);
    }
  }
  g.output = p.output;
  g.strides = p.strides;
  g.dilations = p.dilations;
  g.pads = p.pads;
  check_linear_quant(kOp, p.quant, x.dtype(), w.dtype(), g.out_per_group);
  g.bias = read_bias(kOp, bias, g.out_channels);
  g.out_shape = {g.batch, g.out_channels};
  g.out_shape.insert(g.out_shape.end(), g.output.begin(), g.output.end());
  g.in_size = shape_numel(g.input);
  g.out_size = shape_numel(g.output);
  g.kernel_size = shape_numel(g.kernel);
  return g;
}

}  // namespace detail

Tensor conv_transpose_reference(const Tensor& x, const Tensor& w, const Tensor* bias,
                                const ConvTransposeParams& params, kernels::ThreadPool* pool) {
  const Problem g = detail::conv_transpose_problem(x, w, bias, params);
  const Widened v = widened(x, w, params.quant);
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(g.out_shape)));
  for_planes(g, pool, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> out_coords(g.output.size()), k_coords(g.kernel.size());
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t n = plane / g.out_channels;
      const int64_t m = plane % g.out_channels;
      const int64_t j = m % g.out_per_group;  // the weight's axis-1 channel
      const int64_t first = (m / g.out_per_group) * g.in_per_group;
      for (int64_t o = 0; o < g.out_size; ++o) {
        kernels::unravel_index(o, g.output, out_coords);
        int64_t acc = g.bias.empty() ? 0 : g.bias[static_cast<size_t>(m)];
        for (int64_t c = first; c < first + g.in_per_group; ++c) {
          const int32_t* x_plane = v.xs.data() + (n * g.in_channels + c) * g.in_size;
          const int32_t* w_kernel = v.ws.data() + (c * g.out_per_group + j) * g.kernel_size;
          for (int64_t k = 0; k < g.kernel_size; ++k) {
            kernels::unravel_index(k, g.kernel, k_coords);
            const int64_t offset = source_offset(g, out_coords, k_coords);
            if (offset >= 0) acc += int64_t{x_plane[offset]} * w_kernel[k];
          }
        }
        y[static_cast<size_t>(plane * g.out_size + o)] = detail::requantize_sum(
            acc, detail::channel_entry(params.quant.multipliers, j), params.quant.output);
      }
    }
  });
  return detail::narrow(params.quant.output, g.out_shape, y);
}

Tensor conv_transpose(const Tensor& x, const Tensor& w, const Tensor* bias,
                      const ConvTransposeParams& params, kernels::ThreadPool* pool) {
  const Problem g = detail::conv_transpose_problem(x, w, bias, params);
  if (std::optional<Tensor> y = optimized::conv_transpose(g, x, w, params.quant, pool)) return *y;
  return scatter_conv_transpose(g, x, w, params.quant, pool);
}

const IntegerKernel& conv_transpose_kernel() {
  static const IntegerKernel k = make_kernel<ConvTransposeParams>(
      {"ConvTranspose", 15, "conv_transpose", [](const KernelArgs& a, const ConvTransposeParams& p) {
         return single(conv_transpose(a.in(0), a.in(1), a.optional(2), p, a.pool));
       }});
  return k;
}

}  // namespace lq::integer
