#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// K: the attribute before opset 10, a one-element int64 input since.
int64_t top_k_count(const KernelContext& ctx) {
  if (ctx.opset < 10) {
    if (!ctx.node.has_attr("k")) ctx.fail(StatusCode::kInvalidModel, "attribute k is missing");
    return ctx.node.attr_int("k", 0);
  }
  const std::vector<int64_t> k = int_list_input(ctx, 1);
  if (k.size() != 1) ctx.fail_input(1, "K must hold one value, got {}", k.size());
  return k[0];
}

// Strict "comes first" order: larger (or smaller) value first, NaN as the largest
// value, ties broken by the lower index as the spec requires.
template <typename T>
bool ranks_before(T a, int64_t ia, T b, int64_t ib, bool largest) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) {
      if (std::isnan(a) && std::isnan(b)) return ia < ib;
      return std::isnan(a) == largest;
    }
  }
  if (a != b) return largest ? a > b : a < b;
  return ia < ib;
}

}  // namespace

// The k largest (or smallest) elements along `axis` and their indices, in sorted
// order (also when sorted = 0, where the order is unspecified).
void top_k(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const auto rank = static_cast<int64_t>(data.rank());
  if (rank == 0) ctx.fail_input(0, "data must have rank >= 1, got a scalar");
  const auto axis =
      static_cast<size_t>(normalize_axis(ctx, ctx.node.attr_int("axis", -1), rank, "axis"));
  const int64_t dim = data.dim(axis);
  const int64_t k = top_k_count(ctx);
  if (k < 0 || k > dim) {
    ctx.fail(StatusCode::kInvalidArgument, "K = {} is outside [0, {}] (the size of axis {})", k,
             dim, axis);
  }
  const bool largest = ctx.opset < 11 || ctx.node.attr_int("largest", 1) != 0;
  Shape out_shape = data.shape();
  out_shape[axis] = k;
  Tensor& values = ctx.make_output(0, data.dtype(), out_shape);
  Tensor& indices = ctx.make_output(1, DType::kInt64, out_shape);
  const int64_t inner =
      shape_numel(Shape(out_shape.begin() + static_cast<int64_t>(axis) + 1, out_shape.end()));
  const int64_t outer =
      shape_numel(Shape(out_shape.begin(), out_shape.begin() + static_cast<int64_t>(axis)));
  const bool supported = visit_numeric(data.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = data.data<T>();
    T* out_values = values.data<T>();
    int64_t* out_indices = indices.data<int64_t>();
    ctx.pool.parallel_for(outer * inner, [&](int64_t begin, int64_t end) {
      std::vector<int64_t> order(static_cast<size_t>(dim));
      for (int64_t slice = begin; slice < end; ++slice) {
        const T* in = src + slice / inner * dim * inner + slice % inner;
        std::iota(order.begin(), order.end(), int64_t{0});
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
          return ranks_before(in[a * inner], a, in[b * inner], b, largest);
        });
        const int64_t base = slice / inner * k * inner + slice % inner;
        for (int64_t j = 0; j < k; ++j) {
          out_values[base + j * inner] = in[order[static_cast<size_t>(j)] * inner];
          out_indices[base + j * inner] = order[static_cast<size_t>(j)];
        }
      }
    });
  });
  if (!supported) {
    ctx.fail(StatusCode::kUnsupported,
             "dtype {} is not supported; TopK takes integer, float32 "
             "and float64 data",
             dtype_name(data.dtype()));
  }
}

}  // namespace lq::kernels
