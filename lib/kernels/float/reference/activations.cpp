// Activation functions: Relu, LeakyRelu, Elu, Selu, Sigmoid, HardSigmoid, HardSwish,
// Softplus, Softsign. Attributes are float32 in ONNX; the arithmetic runs in the
// input's precision.
#include <cmath>

#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

// Casts a float attribute to the element type of v.
template <typename T>
T as(T, float value) {
  return static_cast<T>(value);
}

template <typename T>
T hard_sigmoid(T v, T alpha, T beta) {
  return std::max(T(0), std::min(T(1), alpha * v + beta));
}

}  // namespace
}  // namespace math

void relu(KernelContext& ctx) {
  math::unary_kernel<math::SignedTypes>(ctx, [](auto v) { return v < 0 ? decltype(v)(0) : v; });
}

void leaky_relu(KernelContext& ctx) {
  const float alpha = ctx.node.attr_float("alpha", 0.01f);
  math::unary_kernel<math::FloatTypes>(
      ctx, [alpha](auto v) { return v >= 0 ? v : math::as(v, alpha) * v; });
}

void elu(KernelContext& ctx) {
  const float alpha = ctx.node.attr_float("alpha", 1.0f);
  math::unary_kernel<math::FloatTypes>(
      ctx, [alpha](auto v) { return v > 0 ? v : math::as(v, alpha) * (std::exp(v) - 1); },
      math::kCostlyGrain);
}

void selu(KernelContext& ctx) {
  const float alpha = ctx.node.attr_float("alpha", 1.67326319217681884765625f);
  const float gamma = ctx.node.attr_float("gamma", 1.05070102214813232421875f);
  math::unary_kernel<math::FloatTypes>(
      ctx,
      [alpha, gamma](auto v) {
        const auto g = math::as(v, gamma);
        return v > 0 ? g * v : g * (math::as(v, alpha) * (std::exp(v) - 1));
      },
      math::kCostlyGrain);
}

void sigmoid(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(
      ctx,
      [](auto v) {
        using T = decltype(v);
        return T(1) / (T(1) + std::exp(-v));
      },
      math::kCostlyGrain);
}

void hard_sigmoid(KernelContext& ctx) {
  const float alpha = ctx.node.attr_float("alpha", 0.2f);
  const float beta = ctx.node.attr_float("beta", 0.5f);
  math::unary_kernel<math::FloatTypes>(ctx, [alpha, beta](auto v) {
    return math::hard_sigmoid(v, math::as(v, alpha), math::as(v, beta));
  });
}

void hard_swish(KernelContext& ctx) {
  // HardSwish-14 is x * HardSigmoid(x) with alpha = 1/6 and beta = 0.5.
  math::unary_kernel<math::FloatTypes>(ctx, [](auto v) {
    using T = decltype(v);
    return v * math::hard_sigmoid(v, T(1) / T(6), T(0.5));
  });
}

void softplus(KernelContext& ctx) {
  // log(1 + exp(v)) without overflow: max(v, 0) + log1p(exp(-|v|)).
  math::unary_kernel<math::FloatTypes>(
      ctx,
      [](auto v) {
        using T = decltype(v);
        return std::max(v, T(0)) + std::log1p(std::exp(-std::fabs(v)));
      },
      math::kCostlyGrain);
}

void softsign(KernelContext& ctx) {
  math::unary_kernel<math::FloatTypes>(ctx,
                                       [](auto v) { return v / (decltype(v)(1) + std::fabs(v)); });
}

}  // namespace lq::kernels
