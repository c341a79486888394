// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceSumSquare, ReduceLogSum, ReduceLogSumExp.
//
// Axes come from the `axes` attribute, or from input 1 where the opset moved them
// there (ReduceSum 13, the others 18). No axes means all axes, unless
// noop_with_empty_axes=1, which makes the op an identity. Float data accumulates in
// double, integers in int64 (wrapping), each output over its reduced elements in
// row-major order, so results do not depend on the thread count.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

template <typename T>
using Wide = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <typename A>
A plus(A a, A b) {
  if constexpr (std::is_integral_v<A>) return wrap_add(a, b);
  return a + b;
}
template <typename A>
A times(A a, A b) {
  if constexpr (std::is_integral_v<A>) return wrap_mul(a, b);
  return a * b;
}

template <typename T>
struct SumOf {
  using Acc = Wide<T>;
  static Acc init() { return 0; }
  static void add(Acc& acc, T x) { acc = plus<Acc>(acc, static_cast<Acc>(x)); }
  static T finish(Acc acc, int64_t) { return static_cast<T>(acc); }
};
template <typename T>
struct MeanOf : SumOf<T> {
  using Acc = Wide<T>;
  static T finish(Acc acc, int64_t count) {
    if constexpr (std::is_integral_v<Acc>) {
      if (count == 0) return T(0);
    }
    return static_cast<T>(acc / static_cast<Acc>(count));
  }
};
template <typename T>
struct ProdOf {
  using Acc = Wide<T>;
  static Acc init() { return 1; }
  static void add(Acc& acc, T x) { acc = times<Acc>(acc, static_cast<Acc>(x)); }
  static T finish(Acc acc, int64_t) { return static_cast<T>(acc); }
};
template <typename T>
struct L1Of : SumOf<T> {
  using Acc = Wide<T>;
  static void add(Acc& acc, T x) {
    const Acc v = static_cast<Acc>(x);
    acc = plus<Acc>(acc, v < 0 ? times<Acc>(v, Acc(-1)) : v);
  }
};
template <typename T>
struct SumSquareOf : SumOf<T> {
  using Acc = Wide<T>;
  static void add(Acc& acc, T x) {
    const Acc v = static_cast<Acc>(x);
    acc = plus<Acc>(acc, times<Acc>(v, v));
  }
};
template <typename T>
struct L2Of {
  using Acc = double;
  static Acc init() { return 0; }
  static void add(Acc& acc, T x) { acc += static_cast<double>(x) * static_cast<double>(x); }
  static T finish(Acc acc, int64_t) { return static_cast<T>(std::sqrt(acc)); }
};
template <typename T>
struct LogSumOf {
  using Acc = double;
  static Acc init() { return 0; }
  static void add(Acc& acc, T x) { acc += static_cast<double>(x); }
  static T finish(Acc acc, int64_t) { return static_cast<T>(std::log(acc)); }
};
// log(sum(exp(x))) accumulated online: sum is relative to the running maximum, so no
// exponential overflows.
struct ScaledSum {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
};
template <typename T>
struct LogSumExpOf {
  using Acc = ScaledSum;
  static Acc init() { return {}; }
  static void add(Acc& acc, T x) {
    const double v = static_cast<double>(x);
    if (v == -std::numeric_limits<double>::infinity()) return;
    if (v > acc.max) {
      acc.sum = acc.sum * std::exp(acc.max - v) + 1.0;
      acc.max = v;
    } else {
      acc.sum += v == acc.max ? 1.0 : std::exp(v - acc.max);
    }
  }
  static T finish(const Acc& acc, int64_t) {
    if (std::isnan(acc.sum)) return static_cast<T>(acc.sum);
    return static_cast<T>(acc.sum == 0 ? acc.max : acc.max + std::log(acc.sum));
  }
};
// NaN propagates through ReduceMax and ReduceMin, as in numpy.
template <typename T>
bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
  return false;
}

template <typename T>
struct MaxOf {
  using Acc = T;
  static Acc init() {
    if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::lowest();
  }
  static void add(Acc& acc, T x) {
    if (x > acc || is_nan(x)) acc = x;
  }
  static T finish(Acc acc, int64_t) { return acc; }
};
template <typename T>
struct MinOf {
  using Acc = T;
  static Acc init() {
    if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::max();
  }
  static void add(Acc& acc, T x) {
    if (x < acc || is_nan(x)) acc = x;
  }
  static T finish(Acc acc, int64_t) { return acc; }
};

// The input with adjacent reduced (or kept) axes merged and size-1 axes dropped.
// Outputs are walked over the kept axes; each output reduces the elements at
// `reduced_offsets` (row-major over the reduced axes) from its base offset. When
// the innermost merged axis is kept, `inner` consecutive outputs are computed
// together (contiguous rows); when it is reduced, it is the tight inner loop.
struct ReducePlan {
  Shape out_shape;
  std::vector<int64_t> kept_dims;     // outer kept axes (excludes a kept innermost axis)
  std::vector<int64_t> kept_strides;  // their input strides
  std::vector<int64_t> reduced_offsets;
  int64_t inner = 1;
  bool inner_reduced = false;
  int64_t count = 1;  // elements reduced into each output
};

ReducePlan plan_reduce(const Shape& shape, const std::vector<bool>& reduced, bool keepdims) {
  ReducePlan plan;
  struct Axis {
    int64_t size;
    bool reduced;
  };
  std::vector<Axis> axes;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (reduced[i]) plan.count *= shape[i];
    if (!reduced[i] || keepdims) plan.out_shape.push_back(reduced[i] ? 1 : shape[i]);
    if (shape[i] == 1) continue;
    if (!axes.empty() && axes.back().reduced == reduced[i]) {
      axes.back().size *= shape[i];
    } else {
      axes.push_back({shape[i], reduced[i]});
    }
  }
  if (axes.empty()) axes.push_back({1, false});
  const Axis innermost = axes.back();
  plan.inner = innermost.size;
  plan.inner_reduced = innermost.reduced;
  plan.reduced_offsets = {0};
  int64_t stride = innermost.size;
  for (size_t i = axes.size() - 1; i-- > 0;) {
    if (axes[i].reduced) {
      std::vector<int64_t> expanded;
      expanded.reserve(plan.reduced_offsets.size() * static_cast<size_t>(axes[i].size));
      for (int64_t k = 0; k < axes[i].size; ++k) {
        for (int64_t offset : plan.reduced_offsets) expanded.push_back(k * stride + offset);
      }
      plan.reduced_offsets = std::move(expanded);
    } else {
      plan.kept_dims.insert(plan.kept_dims.begin(), axes[i].size);
      plan.kept_strides.insert(plan.kept_strides.begin(), stride);
    }
    stride *= axes[i].size;
  }
  return plan;
}

int64_t kept_offset(const ReducePlan& plan, int64_t index) {
  int64_t offset = 0;
  for (size_t axis = plan.kept_dims.size(); axis-- > 0;) {
    offset += (index % plan.kept_dims[axis]) * plan.kept_strides[axis];
    index /= plan.kept_dims[axis];
  }
  return offset;
}

template <typename T, typename R>
Tensor reduce(const KernelContext& ctx, const Tensor& input, const ReducePlan& plan) {
  using Acc = typename R::Acc;
  Tensor output(input.dtype(), plan.out_shape);
  const T* x = input.data<T>();
  T* y = output.data<T>();
  const int64_t outer = shape_numel(plan.kept_dims);
  const int64_t work_per_item = std::max<int64_t>(1, plan.count);
  if (plan.inner_reduced) {
    ctx.pool.parallel_for(
        outer,
        [&](int64_t begin, int64_t end) {
          for (int64_t o = begin; o < end; ++o) {
            const T* base = x + kept_offset(plan, o);
            Acc acc = R::init();
            for (int64_t offset : plan.reduced_offsets) {
              const T* p = base + offset;
              for (int64_t i = 0; i < plan.inner; ++i) R::add(acc, p[i]);
            }
            y[o] = R::finish(acc, plan.count);
          }
        },
        std::max<int64_t>(1, kCheapGrain / work_per_item));
    return output;
  }
  ctx.pool.parallel_for(
      outer,
      [&](int64_t begin, int64_t end) {
        std::vector<Acc> acc(static_cast<size_t>(plan.inner));
        for (int64_t o = begin; o < end; ++o) {
          const T* base = x + kept_offset(plan, o);
          std::fill(acc.begin(), acc.end(), R::init());
          for (int64_t offset : plan.reduced_offsets) {
            const T* p = base + offset;
            for (int64_t i = 0; i < plan.inner; ++i) R::add(acc[i], p[i]);
          }
          T* out = y + o * plan.inner;
          for (int64_t i = 0; i < plan.inner; ++i) out[i] = R::finish(acc[i], plan.count);
        }
      },
      std::max<int64_t>(1, kCheapGrain / (work_per_item * std::max<int64_t>(1, plan.inner))));
  return output;
}

// Axes from input 1 or the attribute; empty when none are given.
std::vector<int64_t> requested_axes(const KernelContext& ctx) {
  if (!ctx.has_input(1)) return ctx.node.attr_ints("axes");
  const Tensor& axes = ctx.input(1);
  if (axes.dtype() != DType::kInt64) fail_dtype(ctx, 1, {DType::kInt64});
  if (axes.rank() > 1) {
    ctx.fail_input(1, "axes must be a 1-D tensor, got shape {}", shape_str(axes.shape()));
  }
  return axes.to_int64s();
}

std::vector<bool> reduced_axes(const KernelContext& ctx, const std::vector<int64_t>& axes,
                               size_t rank) {
  std::vector<bool> reduced(rank, axes.empty());
  for (int64_t axis : axes) {
    const int64_t a = normalize_axis(ctx, axis, static_cast<int64_t>(rank), "reduce axis");
    if (reduced[static_cast<size_t>(a)]) {
      ctx.fail(StatusCode::kInvalidArgument, "reduce axis {} is given twice", axis);
    }
    reduced[static_cast<size_t>(a)] = true;
  }
  return reduced;
}

template <template <typename> class R, typename Types = TypeList<float, double, int32_t, int64_t>>
void reduce_kernel(KernelContext& ctx) {
  const std::vector<int64_t> axes = requested_axes(ctx);
  if (axes.empty() && ctx.node.attr_int("noop_with_empty_axes", 0) != 0) {
    ctx.outputs[0] = ctx.input(0);
    return;
  }
  const Tensor x = float_from_half(ctx.input(0));
  const ReducePlan plan = plan_reduce(x.shape(), reduced_axes(ctx, axes, x.rank()),
                                      ctx.node.attr_int("keepdims", 1) != 0);
  Tensor result;
  dispatch(ctx, 0, x.dtype(), Types{},
           [&](auto type) {
             using T = typename decltype(type)::type;
             result = reduce<T, R<T>>(ctx, x, plan);
           },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
}

using MinMaxTypes = TypeList<float, double, int32_t, int64_t, int8_t, uint8_t>;

}  // namespace
}  // namespace math

void reduce_sum(KernelContext& ctx) { math::reduce_kernel<math::SumOf>(ctx); }
void reduce_mean(KernelContext& ctx) { math::reduce_kernel<math::MeanOf>(ctx); }
void reduce_max(KernelContext& ctx) { math::reduce_kernel<math::MaxOf, math::MinMaxTypes>(ctx); }
void reduce_min(KernelContext& ctx) { math::reduce_kernel<math::MinOf, math::MinMaxTypes>(ctx); }
void reduce_prod(KernelContext& ctx) { math::reduce_kernel<math::ProdOf>(ctx); }
void reduce_l1(KernelContext& ctx) { math::reduce_kernel<math::L1Of>(ctx); }
void reduce_l2(KernelContext& ctx) { math::reduce_kernel<math::L2Of>(ctx); }
void reduce_sum_square(KernelContext& ctx) { math::reduce_kernel<math::SumSquareOf>(ctx); }
void reduce_log_sum(KernelContext& ctx) { math::reduce_kernel<math::LogSumOf>(ctx); }
void reduce_log_sum_exp(KernelContext& ctx) { math::reduce_kernel<math::LogSumExpOf>(ctx); }

}  // namespace lq::kernels
