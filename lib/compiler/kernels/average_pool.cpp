// Integer AveragePool and GlobalAveragePool: the exact integer sum of (x − zx) over a
// window, requantized by (s_in / s_out) / count, where the division of the multiplier by
// the count is done in integers (divide_multiplier): one rounding per output.
#include "compiler/kernels/common.hpp"

namespace lq::integer {

namespace {

void check_params(const char* op, const Tensor& x, const AveragePoolParams& params) {
  detail::require_data(op, "input", x);
  if (x.rank() < 3) {
    detail::fail(op, "input shape {} has rank {}, expected N x C x D1... (rank >= 3)",
                 shape_str(x.shape()), x.rank());
  }
  detail::check_zero_point(op, "input", x.dtype(), params.input_zero_point);
  detail::check_output_spec(op, params.output);
}

// The multiplier for each count in [1, max_count] (entry 0 unused).
std::vector<Multiplier> multipliers_by_count(Multiplier m, int64_t max_count) {
  std::vector<Multiplier> by_count(static_cast<size_t>(max_count) + 1);
  for (int64_t c = 1; c <= max_count; ++c)
    by_count[static_cast<size_t>(c)] = divide_multiplier(m, c);
  return by_count;
}

}  // namespace

AveragePoolParams make_average_pool_params(const QuantParams& input, const QuantParams& output) {
  const Rescale r = make_rescale(input, output);
  AveragePoolParams params;
  params.input_zero_point = r.zero_point;
  params.multiplier = r.multiplier;
  params.output = make_output_spec(output);
  return params;
}

Tensor average_pool(const Tensor& x, const AveragePoolParams& params) {
  constexpr const char* kOp = "AveragePool";
  check_params(kOp, x, params);
  const PoolWindow& window = params.window;
  const std::vector<int64_t> input(x.shape().begin() + 2, x.shape().end());
  if (window.kernel.size() != input.size()) {
    detail::fail(kOp, "kernel shape {} has {} axes, the input {} has {} spatial axes",
                 shape_str(window.kernel), window.kernel.size(), shape_str(x.shape()),
                 input.size());
  }
  const kernels::Window win = detail::make_window(kOp, input, window.kernel, window.strides,
                                                  window.dilations, window.pads, window.ceil_mode);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = shape_numel(win.input);
  const int64_t out_size = shape_numel(win.output);
  const int64_t kernel_size = shape_numel(win.kernel);
  Shape out_shape = {x.dim(0), x.dim(1)};
  out_shape.insert(out_shape.end(), win.output.begin(), win.output.end());

  const std::vector<Multiplier> by_count = multipliers_by_count(params.multiplier, kernel_size);
  const std::vector<int32_t> xs = detail::widen(x, params.input_zero_point);
  const OutputSpec& out = params.output;
  std::vector<int32_t> y(static_cast<size_t>(planes * out_size));
  const size_t rank = win.rank();
  std::vector<int64_t> out_coords(rank), k_coords(rank);
  for (int64_t o = 0; o < out_size; ++o) {
    kernels::unravel_index(o, win.output, out_coords);
    // The window's input offsets and its divisor, shared by every plane.
    std::vector<int64_t> offsets;
    int64_t count = 0;
    for (int64_t k = 0; k < kernel_size; ++k) {
      kernels::unravel_index(k, win.kernel, k_coords);
      int64_t offset = 0;
      bool inside = true, inside_padded = true;
      for (size_t i = 0; i < rank; ++i) {
        const int64_t pos =
            out_coords[i] * win.strides[i] - win.pads_begin[i] + k_coords[i] * win.dilations[i];
        inside = inside && pos >= 0 && pos < win.input[i];
        inside_padded = inside_padded && pos < win.input[i] + win.pads_end[i];
        offset = offset * win.input[i] + pos;
      }
      if (inside) offsets.push_back(offset);
      if (inside || (params.count_include_pad && inside_padded)) ++count;
    }
    for (int64_t plane = 0; plane < planes; ++plane) {
      const int32_t* x_plane = xs.data() + plane * in_size;
      int64_t sum = 0;
      for (int64_t offset : offsets) sum += x_plane[offset];
      // Only a window made entirely of padding has nothing to average: real 0.
      y[static_cast<size_t>(plane * out_size + o)] =
          count == 0 ? clamp_to(out.zero_point, out.min, out.max)
                     : requantize64(sum, by_count[static_cast<size_t>(count)], out.zero_point,
                                    out.min, out.max);
    }
  }
  return detail::narrow(out, out_shape, y);
}

Tensor global_average_pool(const Tensor& x, const AveragePoolParams& params) {
  constexpr const char* kOp = "GlobalAveragePool";
  check_params(kOp, x, params);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t count = planes == 0 ? 0 : x.numel() / planes;
  Shape out_shape(x.rank(), 1);
  out_shape[0] = x.dim(0);
  out_shape[1] = x.dim(1);
  if (count == 0 && planes > 0) {
    detail::fail(kOp, "input shape {} has no spatial elements to average", shape_str(x.shape()));
  }
  const Multiplier m = planes == 0 ? Multiplier{} : divide_multiplier(params.multiplier, count);
  const std::vector<int32_t> xs = detail::widen(x, params.input_zero_point);
  const OutputSpec& out = params.output;
  std::vector<int32_t> y(static_cast<size_t>(planes));
  for (int64_t plane = 0; plane < planes; ++plane) {
    int64_t sum = 0;
    for (int64_t i = 0; i < count; ++i) sum += xs[static_cast<size_t>(plane * count + i)];
    y[static_cast<size_t>(plane)] = requantize64(sum, m, out.zero_point, out.min, out.max);
  }
  return detail::narrow(out, out_shape, y);
}

}  // namespace lq::integer
