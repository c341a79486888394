// Integer AveragePool and GlobalAveragePool: the exact integer sum of (x − zx) over a
// window, requantized by (s_in / s_out) / count, where the division of the multiplier by
// the count is done in integers (divide_multiplier): one rounding per output.
// global_average_pool sums the typed codes; global_average_pool_reference widens first.
#include <type_traits>

#include "kernels/integer/common.hpp"
#include "kernels/integer/registry.hpp"

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


Tensor average_pool(const Tensor& x, const AveragePoolParams& params) {
  constexpr const char* kOp = "AveragePool";
  check_params(kOp, x, params);
  const kernels::Window win = detail::pool_window(kOp, x, params.window);
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

namespace {

constexpr const char* kGlobalOp = "GlobalAveragePool";

// The checked [N, C, 1...] output shape of a GlobalAveragePool and the multiplier divided by
// the count of elements per plane.
struct GlobalPool {
  Shape out_shape;
  int64_t planes = 0, count = 0;
  Multiplier multiplier;
};

GlobalPool global_pool(const Tensor& x, const AveragePoolParams& params) {
  check_params(kGlobalOp, x, params);
  GlobalPool g;
  g.planes = x.dim(0) * x.dim(1);
  g.count = g.planes == 0 ? 0 : x.numel() / g.planes;
  g.out_shape = Shape(x.rank(), 1);
  g.out_shape[0] = x.dim(0);
  g.out_shape[1] = x.dim(1);
  if (g.count == 0 && g.planes > 0) {
    detail::fail(kGlobalOp, "input shape {} has no spatial elements to average",
                 shape_str(x.shape()));
  }
  g.multiplier = g.planes == 0 ? Multiplier{} : divide_multiplier(params.multiplier, g.count);
  return g;
}

}  // namespace

// sum(x − zx) = sum(x) − count × zx: the typed codes are summed as they are.
Tensor global_average_pool(const Tensor& x, const AveragePoolParams& params) {
  const GlobalPool g = global_pool(x, params);
  const OutputSpec& out = params.output;
  Tensor y(out.dtype, g.out_shape);
  detail::visit_codes(x.dtype(), x.raw(), [&](const auto* codes) {
    detail::visit_output(out.dtype, y.raw(), [&](auto* values) {
      using T = std::remove_pointer_t<decltype(values)>;
      for (int64_t plane = 0; plane < g.planes; ++plane) {
        const auto* begin = codes + plane * g.count;
        int64_t sum = 0;
        for (int64_t i = 0; i < g.count; ++i) sum += begin[i];
        sum -= g.count * params.input_zero_point;
        values[plane] =
            static_cast<T>(requantize64(sum, g.multiplier, out.zero_point, out.min, out.max));
      }
    });
  });
  return y;
}

Tensor global_average_pool_reference(const Tensor& x, const AveragePoolParams& params) {
  const GlobalPool g = global_pool(x, params);
  const std::vector<int32_t> xs = detail::widen(x, params.input_zero_point);
  const OutputSpec& out = params.output;
  std::vector<int32_t> y(static_cast<size_t>(g.planes));
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    int64_t sum = 0;
    for (int64_t i = 0; i < g.count; ++i) sum += xs[static_cast<size_t>(plane * g.count + i)];
    y[static_cast<size_t>(plane)] =
        requantize64(sum, g.multiplier, out.zero_point, out.min, out.max);
  }
  return detail::narrow(out, g.out_shape, y);
}

const IntegerKernel& average_pool_kernel() {
  static const IntegerKernel k = make_kernel<AveragePoolParams>(
      {"AveragePool", 9, "average_pool", [](const KernelArgs& a, const AveragePoolParams& p) {
         return single(average_pool(a.in(0), p));
       }});
  return k;
}

// Shares AveragePool's message; the window is unused.
const IntegerKernel& global_average_pool_kernel() {
  static const IntegerKernel k = make_kernel<AveragePoolParams>(
      {"GlobalAveragePool", 10, "average_pool", [](const KernelArgs& a, const AveragePoolParams& p) {
         return single(global_average_pool(a.in(0), p));
       }});
  return k;
}

}  // namespace lq::integer
