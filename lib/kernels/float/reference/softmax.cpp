// Softmax and LogSoftmax. From opset 13 they normalize along `axis` (default -1);
// before 13 the input is coerced to 2-D at `axis` (default 1) and each row of the
// flattened [a0*..*a(k-1), ak*..*a(n-1)] matrix is normalized. The maximum is
// subtracted first and the sum of exponentials is accumulated in double.
#include <cmath>
#include <vector>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

// The input viewed as [outer, n, inner], normalizing along n.
struct Geometry {
  int64_t outer = 1;
  int64_t n = 1;
  int64_t inner = 1;
};

Geometry geometry(const KernelContext& ctx, const Shape& shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  const bool per_axis = ctx.opset >= 13;
  int64_t axis = ctx.node.attr_int("axis", per_axis ? -1 : 1);
  // The 2-D coercion also accepts axis == rank (every row has one element).
  const int64_t last = per_axis ? rank - 1 : rank;
  if (axis < -rank || axis > last) {
    ctx.fail(StatusCode::kInvalidArgument, "axis {} is out of range for rank {} (valid: [{}, {}])",
             axis, rank, -rank, last);
  }
  if (axis < 0) axis += rank;
  Geometry g;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < axis) {
      g.outer *= shape[i];
    } else if (i == axis || !per_axis) {
      g.n *= shape[i];
    } else {
      g.inner *= shape[i];
    }
  }
  return g;
}

// One contiguous row of n elements (inner == 1).
template <typename T, bool kLog>
void normalize_row(const T* x, T* y, int64_t n) {
  T max = x[0];
  for (int64_t k = 1; k < n; ++k) max = x[k] > max ? x[k] : max;
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) {
    const T e = std::exp(x[k] - max);
    if constexpr (!kLog) y[k] = e;
    sum += e;
  }
  if constexpr (kLog) {
    const double log_sum = std::log(sum);
    for (int64_t k = 0; k < n; ++k)
      y[k] = static_cast<T>(static_cast<double>(x[k] - max) - log_sum);
  } else {
    for (int64_t k = 0; k < n; ++k) y[k] = static_cast<T>(y[k] / sum);
  }
}

// Columns [0, width) of an [n, inner] block, walked row by row so the loops run
// along contiguous memory. Each column's arithmetic matches normalize_row's.
template <typename T, bool kLog>
void normalize_columns(const T* x, T* y, int64_t n, int64_t inner, int64_t width,
                       std::vector<T>& max, std::vector<double>& sum) {
  max.assign(x, x + width);
  sum.assign(static_cast<size_t>(width), 0.0);
  for (int64_t k = 1; k < n; ++k) {
    const T* row = x + k * inner;
    for (int64_t i = 0; i < width; ++i) max[i] = row[i] > max[i] ? row[i] : max[i];
  }
  for (int64_t k = 0; k < n; ++k) {
    const T* row = x + k * inner;
    T* out = y + k * inner;
    for (int64_t i = 0; i < width; ++i) {
      const T e = std::exp(row[i] - max[i]);
      if constexpr (!kLog) out[i] = e;
      sum[i] += e;
    }
  }
  if constexpr (kLog) {
    for (int64_t i = 0; i < width; ++i) sum[i] = std::log(sum[i]);
  }
  for (int64_t k = 0; k < n; ++k) {
    const T* row = x + k * inner;
    T* out = y + k * inner;
    for (int64_t i = 0; i < width; ++i) {
      if constexpr (kLog) {
        out[i] = static_cast<T>(static_cast<double>(row[i] - max[i]) - sum[i]);
      } else {
        out[i] = static_cast<T>(out[i] / sum[i]);
      }
    }
  }
}

template <typename T, bool kLog>
Tensor normalize(const KernelContext& ctx, const Tensor& input) {
  Tensor output(input.dtype(), input.shape());
  const Geometry g = geometry(ctx, input.shape());
  if (input.numel() == 0) return output;
  const T* x = input.data<T>();
  T* y = output.data<T>();
  // Work items are columns (outer * inner of them), each n elements long.
  const int64_t grain = std::max<int64_t>(1, kCostlyGrain / g.n);
  ctx.pool.parallel_for(
      g.outer * g.inner,
      [&](int64_t begin, int64_t end) {
        std::vector<T> max;
        std::vector<double> sum;
        for (int64_t column = begin; column < end;) {
          const int64_t o = column / g.inner;
          const int64_t i = column % g.inner;
          const int64_t width = std::min(end - column, g.inner - i);
          const int64_t offset = o * g.n * g.inner + i;
          if (g.inner == 1) {
            normalize_row<T, kLog>(x + offset, y + offset, g.n);
          } else {
            normalize_columns<T, kLog>(x + offset, y + offset, g.n, g.inner, width, max, sum);
          }
          column += width;
        }
      },
      grain);
  return output;
}

template <bool kLog>
void softmax_kernel(KernelContext& ctx) {
  const Tensor x = float_from_half(ctx.input(0));
  Tensor result;
  dispatch(ctx, 0, x.dtype(), FloatTypes{},
           [&](auto type) { result = normalize<typename decltype(type)::type, kLog>(ctx, x); },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
}

}  // namespace
}  // namespace math

void softmax(KernelContext& ctx) { math::softmax_kernel<false>(ctx); }
void log_softmax(KernelContext& ctx) { math::softmax_kernel<true>(ctx); }

}  // namespace lq::kernels
