#include <algorithm>
#include <cstring>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

// Keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each matrix in the
// last two axes; the rest is zero (all-zero bytes in every dtype).
void trilu(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  if (data.rank() < 2)
    ctx.fail_input(0, "expected rank >= 2, got shape {}", shape_str(data.shape()));
  int64_t k = 0;
  if (ctx.has_input(1)) {
    const Tensor& k_input = ctx.input(1);
    if (k_input.dtype() != DType::kInt64 || k_input.numel() != 1) {
      ctx.fail_input(1, "k must be one int64, got {}{}", dtype_name(k_input.dtype()),
                     shape_str(k_input.shape()));
    }
    k = k_input.data<int64_t>()[0];
  }
  const bool upper = ctx.node.attr_int("upper", 1) != 0;
  const int64_t rows = data.dim(data.rank() - 2);
  const int64_t cols = data.dim(data.rank() - 1);
  Tensor& out = ctx.make_output(0, data.dtype(), data.shape());
  const size_t size = dtype_size(data.dtype());
  const auto* src = static_cast<const uint8_t*>(data.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  const int64_t total_rows = cols == 0 ? 0 : data.numel() / cols;
  for (int64_t r = 0; r < total_rows; ++r) {
    const int64_t i = r % rows;
    // k may be far outside [-rows, cols]: clamp before adding to stay in range.
    const int64_t diagonal = i + std::clamp<int64_t>(k, -rows - 1, cols + 1);
    const int64_t begin = upper ? std::clamp<int64_t>(diagonal, 0, cols) : 0;
    const int64_t end = upper ? cols : std::clamp<int64_t>(diagonal + 1, 0, cols);
    if (end > begin) {
      const int64_t offset = (r * cols + begin) * static_cast<int64_t>(size);
      std::memcpy(dst + offset, src + offset, static_cast<size_t>(end - begin) * size);
    }
  }
}

}  // namespace lq::kernels
