// ArgMax, ArgMin: int64 index of the largest / smallest value along `axis`; ties
// resolve to the first occurrence, or the last with select_last_index=1.
#include <vector>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

// The input viewed as [outer, n, inner]; each (outer, inner) column yields one index.
template <typename T, bool kMax>
void arg_extreme(const KernelContext& ctx, const Tensor& input, int64_t axis, bool last,
                 Tensor& output) {
  const Shape& shape = input.shape();
  const int64_t n = shape[static_cast<size_t>(axis)];
  const int64_t inner = shape_numel(Shape(shape.begin() + axis + 1, shape.end()));
  const int64_t outer = n * inner == 0 ? 0 : input.numel() / (n * inner);
  const T* x = input.data<T>();
  int64_t* y = output.data<int64_t>();
  // Row by row so the comparisons run along contiguous memory.
  ctx.pool.parallel_for(
      outer,
      [&](int64_t begin, int64_t end) {
        std::vector<T> best(static_cast<size_t>(inner));
        for (int64_t o = begin; o < end; ++o) {
          const T* block = x + o * n * inner;
          int64_t* index = y + o * inner;
          std::copy(block, block + inner, best.begin());
          std::fill(index, index + inner, 0);
          for (int64_t k = 1; k < n; ++k) {
            const T* row = block + k * inner;
            for (int64_t i = 0; i < inner; ++i) {
              const bool better = kMax ? (last ? row[i] >= best[i] : row[i] > best[i])
                                       : (last ? row[i] <= best[i] : row[i] < best[i]);
              if (better) {
                best[i] = row[i];
                index[i] = k;
              }
            }
          }
        }
      },
      std::max<int64_t>(1, kCheapGrain / std::max<int64_t>(1, n * inner)));
}

template <bool kMax>
void arg_kernel(KernelContext& ctx) {
  const Tensor x = float_from_half(ctx.input(0));
  const int64_t rank = static_cast<int64_t>(x.rank());
  const int64_t axis = normalize_axis(ctx, ctx.node.attr_int("axis", 0), rank, "axis");
  if (x.dim(static_cast<size_t>(axis)) == 0) {
    ctx.fail_input(0, "shape {} is empty along axis {}; there is no extreme value to index",
                   shape_str(x.shape()), axis);
  }
  const bool last = ctx.node.attr_int("select_last_index", 0) != 0;
  Shape out_shape = x.shape();
  if (ctx.node.attr_int("keepdims", 1) != 0) {
    out_shape[static_cast<size_t>(axis)] = 1;
  } else {
    out_shape.erase(out_shape.begin() + axis);
  }
  Tensor& out = ctx.make_output(0, DType::kInt64, out_shape);
  dispatch(
      ctx, 0, x.dtype(), NumericTypes{},
      [&](auto type) { arg_extreme<typename decltype(type)::type, kMax>(ctx, x, axis, last, out); },
      {DType::kFloat16});
}

}  // namespace
}  // namespace math

void arg_max(KernelContext& ctx) { math::arg_kernel<true>(ctx); }
void arg_min(KernelContext& ctx) { math::arg_kernel<false>(ctx); }

}  // namespace lq::kernels
