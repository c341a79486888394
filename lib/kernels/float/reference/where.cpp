// Where: condition ? X : Y with three-way broadcasting, for every dtype (elements are
// copied as raw bits of their size, so float16 and bool need no special case).
#include "kernels/float/reference/elementwise.hpp"

namespace lq::kernels {
namespace math {
namespace {

template <typename Bits>
void select(const KernelContext& ctx, const Tensor& cond, const Tensor& x, const Tensor& y,
            Tensor& out) {
  const BroadcastLoop<3> loop =
      plan_broadcast<3>(out.shape(), {&cond.shape(), &x.shape(), &y.shape()});
  const bool* c = cond.data<bool>();
  const Bits* a = static_cast<const Bits*>(x.raw());
  const Bits* b = static_cast<const Bits*>(y.raw());
  Bits* o = static_cast<Bits*>(out.raw());
  ctx.pool.parallel_for(
      loop.total,
      [&](int64_t begin, int64_t end) {
        for_each_row(loop, begin, end,
                     [&](int64_t pos, int64_t n, const std::array<int64_t, 3>& offset,
                         const std::array<int64_t, 3>& stride) {
                       for (int64_t i = 0; i < n; ++i) {
                         o[pos + i] = c[offset[0] + i * stride[0]] ? a[offset[1] + i * stride[1]]
                                                                   : b[offset[2] + i * stride[2]];
                       }
                     });
      },
      kCheapGrain);
}

void select_elements(KernelContext& ctx) {
  const Tensor& cond = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  if (cond.dtype() != DType::kBool) fail_dtype(ctx, 0, {DType::kBool});
  require_same_dtype(ctx, 2, 1);
  const Shape shape = broadcast_shapes(ctx, {cond.shape(), x.shape(), y.shape()});
  Tensor& out = ctx.make_output(0, x.dtype(), shape);
  switch (dtype_size(x.dtype())) {
    case 1:
      select<uint8_t>(ctx, cond, x, y, out);
      break;
    case 2:
      select<uint16_t>(ctx, cond, x, y, out);
      break;
    case 4:
      select<uint32_t>(ctx, cond, x, y, out);
      break;
    case 8:
      select<uint64_t>(ctx, cond, x, y, out);
      break;
    default:
      fail_dtype(ctx, 1, {DType::kFloat32, DType::kInt64, DType::kBool});
  }
}

}  // namespace
}  // namespace math

void where(KernelContext& ctx) { math::select_elements(ctx); }

}  // namespace lq::kernels
