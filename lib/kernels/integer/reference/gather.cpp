// The Gather kernel's descriptor: the separable data movement the compiler lowers
// Reshape, Transpose, Slice, Pad, Resize (nearest), ... to, run by detail::gather_axes
// (common.cpp), which the other data-movement kernels share.
#include "kernels/integer/common.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {
const IntegerKernel& gather_kernel() {
  static const IntegerKernel k = make_kernel<GatherOp>(
      {"Gather", 11, "gather",
       [](const KernelArgs& a, const GatherOp& p) { return single(detail::gather_axes(a.in(0), p.offsets, p.fill)); },
       nullptr,
       [](const GatherOp& p) {
         int64_t bytes = 0;
         for (const auto& axis : p.offsets) bytes += static_cast<int64_t>(axis.size() * sizeof(int64_t));
         return bytes;
       }});
  return k;
}

}  // namespace lq::integer
