// Integer Pad: constant (the quantized pad value, usually the zero point), edge or
// reflect; negative pads crop.
#include <algorithm>

#include "kernels/integer/common.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Pad";

// The input index output position `src` (relative to the input's start) reads.
int64_t source_index(int64_t src, int64_t dim, PadMode mode) {
  if (src >= 0 && src < dim) return src;
  switch (mode) {
    case PadMode::kConstant:
      return detail::kFill;
    case PadMode::kEdge:
      return std::clamp<int64_t>(src, 0, dim - 1);
    case PadMode::kReflect: {
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);  // mirrored without repeating the edge
      int64_t s = ((src % period) + period) % period;
      return s < dim ? s : period - s;
    }
  }
  return detail::kFill;
}

}  // namespace

Tensor pad(const Tensor& x, const PadParams& params) {
  detail::require_data(kOp, "input", x);
  const size_t rank = x.rank();
  if (params.pads.size() != 2 * rank) {
    detail::fail(kOp, "pads has {} values, expected {} (begins then ends) for {}",
                 params.pads.size(), 2 * rank, shape_str(x.shape()));
  }
  if (params.mode == PadMode::kConstant &&
      (params.value < dtype_qmin(x.dtype()) || params.value > dtype_qmax(x.dtype()))) {
    detail::fail(kOp, "pad value {} is outside the {} range", params.value, dtype_name(x.dtype()));
  }
  const std::vector<int64_t> strides = detail::strides_of(x.shape());
  std::vector<std::vector<int64_t>> offsets(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t dim = x.dim(d), begin = params.pads[d], end = params.pads[d + rank];
    const int64_t out_dim = dim + begin + end;
    if (out_dim < 0) {
      detail::fail(kOp, "pads {} and {} crop more than the {} elements of axis {}", begin, end, dim,
                   d);
    }
    if (dim == 0 && out_dim > 0 && params.mode != PadMode::kConstant) {
      detail::fail(kOp, "edge and reflect padding need elements, axis {} has none", d);
    }
    for (int64_t j = 0; j < out_dim; ++j) {
      const int64_t src = source_index(j - begin, dim, params.mode);
      offsets[d].push_back(src == detail::kFill ? detail::kFill : src * strides[d]);
    }
  }
  return detail::gather_axes(x, offsets, params.value);
}

}  // namespace lq::integer
