// And, Or, Xor (broadcasting) and Not on bool tensors.
#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

template <typename Op>
void logical_binary(KernelContext& ctx, Op op) {
  for (size_t i = 0; i < 2; ++i) {
    if (ctx.input(i).dtype() != DType::kBool) fail_dtype(ctx, i, {DType::kBool});
  }
  ctx.outputs[0] = map_binary<bool, bool, bool>(ctx, ctx.input(0), ctx.input(1), op);
}

}  // namespace
}  // namespace math

void logical_and(KernelContext& ctx) {
  math::logical_binary(ctx, [](bool a, bool b) { return a && b; });
}
void logical_or(KernelContext& ctx) {
  math::logical_binary(ctx, [](bool a, bool b) { return a || b; });
}
void logical_xor(KernelContext& ctx) {
  math::logical_binary(ctx, [](bool a, bool b) { return a != b; });
}
void logical_not(KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::kBool) math::fail_dtype(ctx, 0, {DType::kBool});
  ctx.outputs[0] = math::map_unary<bool, bool>(ctx, ctx.input(0), [](bool a) { return !a; });
}

}  // namespace lq::kernels
