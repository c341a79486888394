// LayerNormalization (opset 17): each row X[i0..i(axis-1), :] is standardized over the
// trailing axes, then scaled and shifted:
//   Y = (X - Mean) * InvStdDev * Scale + B,  InvStdDev = 1 / sqrt(Var + epsilon)
// Scale and B broadcast to X.shape[axis:]. Statistics are computed in double (two
// passes) and returned as float32 (stash_type=1) in the optional outputs.
#include <cmath>
#include <vector>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

// Values of parameter input `index` expanded to the normalized shape.
std::vector<double> expand_to(const KernelContext& ctx, size_t index, const Shape& target) {
  const Tensor& p = ctx.input(index);
  Shape shape = p.shape();
  while (shape.size() > target.size() && shape.front() == 1) shape.erase(shape.begin());
  bool broadcasts = shape.size() <= target.size();
  for (size_t i = 0; broadcasts && i < shape.size(); ++i) {
    const int64_t want = target[target.size() - shape.size() + i];
    broadcasts = shape[i] == 1 || shape[i] == want;
  }
  if (!broadcasts) {
    ctx.fail_input(index, "shape {} does not broadcast to the normalized shape {}",
                   shape_str(p.shape()), shape_str(target));
  }
  const std::vector<double> values = p.to_doubles();
  const std::vector<int64_t> strides = broadcast_strides(shape, target);
  std::vector<double> expanded(static_cast<size_t>(shape_numel(target)));
  for (size_t i = 0; i < expanded.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i);
    int64_t offset = 0;
    for (size_t axis = target.size(); axis-- > 0;) {
      offset += (rest % target[axis]) * strides[axis];
      rest /= target[axis];
    }
    expanded[i] = values[static_cast<size_t>(offset)];
  }
  return expanded;
}

template <typename T>
void normalize(KernelContext& ctx, const Tensor& input, int64_t axis, Tensor& y_out,
               float* mean_out, float* inv_std_out) {
  const Shape& shape = input.shape();
  const Shape normalized(shape.begin() + axis, shape.end());
  const int64_t n = shape_numel(normalized);
  const int64_t rows = n == 0 ? 0 : input.numel() / n;
  const std::vector<double> scale = expand_to(ctx, 1, normalized);
  const std::vector<double> bias =
      ctx.has_input(2) ? expand_to(ctx, 2, normalized) : std::vector<double>(scale.size(), 0.0);
  const double epsilon = ctx.node.attr_float("epsilon", 1e-5f);
  const T* x = input.data<T>();
  T* y = y_out.data<T>();
  ctx.pool.parallel_for(
      rows,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const T* in = x + r * n;
          T* out = y + r * n;
          double sum = 0;
          for (int64_t i = 0; i < n; ++i) sum += in[i];
          const double mean = sum / static_cast<double>(n);
          double squares = 0;
          for (int64_t i = 0; i < n; ++i) squares += (in[i] - mean) * (in[i] - mean);
          const double inv_std = 1.0 / std::sqrt(squares / static_cast<double>(n) + epsilon);
          for (int64_t i = 0; i < n; ++i) {
            out[i] = static_cast<T>((in[i] - mean) * inv_std * scale[i] + bias[i]);
          }
          if (mean_out) mean_out[r] = static_cast<float>(mean);
          if (inv_std_out) inv_std_out[r] = static_cast<float>(inv_std);
        }
      },
      std::max<int64_t>(1, kCheapGrain / std::max<int64_t>(1, n)));
}

void layer_normalization(KernelContext& ctx) {
  const int64_t stash_type = ctx.node.attr_int("stash_type", 1);
  if (stash_type != 1) {
    ctx.fail(StatusCode::kUnsupported, "stash_type {} is not supported (only 1, float32)",
             stash_type);
  }
  const Tensor x = float_from_half(ctx.input(0));
  const int64_t rank = static_cast<int64_t>(x.rank());
  int64_t axis = ctx.node.attr_int("axis", -1);
  if (axis < -rank || axis > rank) {
    ctx.fail(StatusCode::kInvalidArgument, "axis {} is out of range for rank {} (valid: [{}, {}])",
             axis, rank, -rank, rank);
  }
  if (axis < 0) axis += rank;
  Shape stats_shape = x.shape();
  std::fill(stats_shape.begin() + axis, stats_shape.end(), 1);
  float* mean = ctx.num_outputs() > 1
                    ? ctx.make_output(1, DType::kFloat32, stats_shape).data<float>()
                    : nullptr;
  float* inv_std = ctx.num_outputs() > 2
                       ? ctx.make_output(2, DType::kFloat32, stats_shape).data<float>()
                       : nullptr;
  Tensor y(x.dtype(), x.shape());
  dispatch(
      ctx, 0, x.dtype(), FloatTypes{},
      [&](auto type) { normalize<typename decltype(type)::type>(ctx, x, axis, y, mean, inv_std); },
      {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, y);
}

}  // namespace
}  // namespace math

void layer_normalization(KernelContext& ctx) { math::layer_normalization(ctx); }

}  // namespace lq::kernels
