#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// The output shape per the ONNX rules: 0 copies the input dimension (unless
// allowzero), one -1 is inferred from the element count.
Shape reshape_target(const KernelContext& ctx, const Shape& in, std::vector<int64_t> shape,
                     bool allow_zero) {
  int64_t inferred_axis = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t& d = shape[i];
    if (d == 0 && !allow_zero) {
      if (i >= in.size()) {
        ctx.fail_input(1, "shape {} copies dimension {} (0) but the data has rank {}",
                       shape_str(shape), i, in.size());
      }
      d = in[i];
    }
    if (d == -1) {
      if (inferred_axis >= 0) {
        ctx.fail_input(1, "shape {} has more than one -1", shape_str(shape));
      }
      inferred_axis = static_cast<int64_t>(i);
      continue;
    }
    if (d < 0) ctx.fail_input(1, "shape {} has a negative dimension {}", shape_str(shape), d);
    known *= d;
  }
  const int64_t numel = shape_numel(in);
  if (inferred_axis >= 0) {
    if (known == 0 || numel % known != 0) {
      ctx.fail_input(1, "cannot infer the -1 of shape {} for data of shape {} ({} elements)",
                     shape_str(shape), shape_str(in), numel);
    }
    shape[static_cast<size_t>(inferred_axis)] = numel / known;
  } else if (known != numel) {
    ctx.fail_input(1, "shape {} holds {} elements but the data {} holds {}", shape_str(shape),
                   known, shape_str(in), numel);
  }
  return shape;
}

}  // namespace

void reshape(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  if (ctx.input(1).rank() != 1) {
    ctx.fail_input(1, "shape must be 1-D, got shape {}", shape_str(ctx.input(1).shape()));
  }
  const bool allow_zero = ctx.opset >= 14 && ctx.node.attr_int("allowzero", 0) != 0;
  ctx.outputs[0] =
      data.reshaped(reshape_target(ctx, data.shape(), int_list_input(ctx, 1), allow_zero));
}

}  // namespace lq::kernels
