// Integer Transpose: a pure permutation of elements.
#include <numeric>

#include "kernels/integer/common.hpp"

namespace lq::integer {

Tensor transpose(const Tensor& x, const std::vector<int64_t>& perm) {
  constexpr const char* kOp = "Transpose";
  detail::require_data(kOp, "input", x);
  const size_t rank = x.rank();
  std::vector<int64_t> order = perm;
  if (order.empty()) {  // ONNX's default reverses the axes
    order.resize(rank);
    std::iota(order.rbegin(), order.rend(), 0);
  }
  std::vector<bool> seen(rank, false);
  bool valid = order.size() == rank;
  for (size_t d = 0; valid && d < rank; ++d) {
    valid = order[d] >= 0 && order[d] < static_cast<int64_t>(rank) &&
            !seen[static_cast<size_t>(order[d])];
    if (valid) seen[static_cast<size_t>(order[d])] = true;
  }
  if (!valid) {
    detail::fail(kOp, "perm {} is not a permutation of the {} axes of {}", shape_str(perm), rank,
                 shape_str(x.shape()));
  }
  const std::vector<int64_t> strides = detail::strides_of(x.shape());
  std::vector<std::vector<int64_t>> offsets(rank);
  for (size_t d = 0; d < rank; ++d) {
    const auto axis = static_cast<size_t>(order[d]);
    for (int64_t j = 0; j < x.dim(axis); ++j) offsets[d].push_back(j * strides[axis]);
  }
  return detail::gather_axes(x, offsets);
}

}  // namespace lq::integer
