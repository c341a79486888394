// Integer Softmax through an exp table: within a row the codes differ from the row's
// maximum by d in [0, 255] (8-bit input) or [0, 65535] (int16), exp(−s_in d) is a table
// entry in Q30, the row's integer sum divides the output multiplier once, and every entry
// is requantized by it.
#include <algorithm>
#include <cmath>

#include "kernels/integer/common.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Softmax";

size_t entries(DType input) { return size_t{1} << (input == DType::kInt16 ? 16 : 8); }
constexpr int kTableBits = kSoftmaxTableBits;

// The input viewed as [outer, n, inner], normalizing along n.
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;
};

Rows rows_of(const Shape& shape, int64_t axis, bool coerce_2d) {
  const auto rank = static_cast<int64_t>(shape.size());
  if (axis < 0 || axis > (coerce_2d ? rank : rank - 1)) {
    detail::fail(kOp, "axis {} is out of range for shape {}", axis, shape_str(shape));
  }
  Rows r;
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t dim = shape[static_cast<size_t>(d)];
    if (d < axis) {
      r.outer *= dim;
    } else if (d == axis || coerce_2d) {
      r.n *= dim;
    } else {
      r.inner *= dim;
    }
  }
  return r;
}

}  // namespace


Tensor softmax(const Tensor& x, const SoftmaxParams& params) {
  detail::require_dtype(kOp, "input", x, {params.input_dtype});
  detail::check_output_spec(kOp, params.output);
  const size_t count = entries(params.input_dtype);
  if (params.exp_table.size() != count || params.exp_table[0] != (int32_t{1} << kTableBits) ||
      !std::is_sorted(params.exp_table.rbegin(), params.exp_table.rend()) ||
      params.exp_table.back() < 0) {
    detail::fail(kOp, "the exp table is not {} decreasing entries from 2^{}", count, kTableBits);
  }
  const OutputSpec& out = params.output;
  const Rows r = rows_of(x.shape(), params.axis, params.coerce_2d);
  if (x.numel() == 0) return Tensor(out.dtype, x.shape());
  const std::vector<int32_t> xs = detail::widen(x, 0);
  std::vector<int32_t> y(xs.size());
  std::vector<int32_t> e(static_cast<size_t>(r.n));
  for (int64_t o = 0; o < r.outer; ++o) {
    for (int64_t i = 0; i < r.inner; ++i) {
      const int64_t base = o * r.n * r.inner + i;
      auto at = [&](int64_t k) { return static_cast<size_t>(base + k * r.inner); };
      int32_t max = xs[at(0)];
      for (int64_t k = 1; k < r.n; ++k) max = std::max(max, xs[at(k)]);
      int64_t sum = 0;
      for (int64_t k = 0; k < r.n; ++k) {
        e[static_cast<size_t>(k)] = params.exp_table[static_cast<size_t>(max - xs[at(k)])];
        sum += e[static_cast<size_t>(k)];
      }
      // sum >= 2^30 (the maximum's own entry): the row's multiplier is 1 / (s_out sum).
      const Multiplier m = divide_multiplier(params.multiplier, sum);
      for (int64_t k = 0; k < r.n; ++k) {
        y[at(k)] = requantize(e[static_cast<size_t>(k)], m, out.zero_point, out.min, out.max);
      }
    }
  }
  return detail::narrow(out, x.shape(), y);
}

const IntegerKernel& softmax_kernel() {
  static const IntegerKernel k = make_kernel<SoftmaxParams>(
      {"Softmax", 13, "softmax", [](const KernelArgs& a, const SoftmaxParams& p) { return single(softmax(a.in(0), p)); },
       [](const SoftmaxParams& p) { return check_table(p.input_dtype, p.exp_table.size(), "softmax exp table"); }});
  return k;
}

}  // namespace lq::integer
