// Integer nearest-neighbour Resize: a gather through per-axis source indices.
#include "kernels/integer/common.hpp"

namespace lq::integer {

Tensor resize_nearest(const Tensor& x, const std::vector<std::vector<int64_t>>& source) {
  constexpr const char* kOp = "Resize";
  detail::require_data(kOp, "input", x);
  if (source.size() != x.rank()) {
    detail::fail(kOp, "{} source index lists for the {} axes of {}", source.size(), x.rank(),
                 shape_str(x.shape()));
  }
  const std::vector<int64_t> strides = detail::strides_of(x.shape());
  std::vector<std::vector<int64_t>> offsets(source.size());
  for (size_t d = 0; d < source.size(); ++d) {
    for (int64_t index : source[d]) {
      if (index < 0 || index >= x.dim(d)) {
        detail::fail(kOp, "source index {} is outside axis {} of {}", index, d,
                     shape_str(x.shape()));
      }
      offsets[d].push_back(index * strides[d]);
    }
  }
  return detail::gather_axes(x, offsets);
}

}  // namespace lq::integer
