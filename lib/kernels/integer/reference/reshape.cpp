// Integer Reshape (and Flatten, Squeeze, Unsqueeze once the compiler resolved the shape).
#include "kernels/integer/common.hpp"

namespace lq::integer {

Tensor reshape(const Tensor& x, const Shape& shape) {
  constexpr const char* kOp = "Reshape";
  detail::require_data(kOp, "input", x);
  for (int64_t d : shape) {
    if (d < 0) detail::fail(kOp, "target shape {} has a negative dimension", shape_str(shape));
  }
  if (shape_numel(shape) != x.numel()) {
    detail::fail(kOp, "cannot reshape {} ({} elements) to {} ({} elements)", shape_str(x.shape()),
                 x.numel(), shape_str(shape), shape_numel(shape));
  }
  return x.reshaped(shape);
}

}  // namespace lq::integer
