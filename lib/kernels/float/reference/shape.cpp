#include <algorithm>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

namespace {

// Opset 15's start/end: negative values count from the back, then clamp to [0, rank].
int64_t clamp_shape_bound(int64_t bound, int64_t rank) {
  if (bound < 0) bound += rank;
  return std::clamp<int64_t>(bound, 0, rank);
}

}  // namespace

void shape(KernelContext& ctx) {
  const Shape& dims = ctx.input(0).shape();
  const auto rank = static_cast<int64_t>(dims.size());
  int64_t start = 0;
  int64_t end = rank;
  if (ctx.opset >= 15) {
    start = clamp_shape_bound(ctx.node.attr_int("start", 0), rank);
    end = clamp_shape_bound(ctx.node.attr_int("end", rank), rank);
  }
  const int64_t count = std::max<int64_t>(0, end - start);
  Tensor& out = ctx.make_output(0, DType::kInt64, {count});
  std::copy(dims.begin() + start, dims.begin() + start + count, out.data<int64_t>());
}

}  // namespace lq::kernels
