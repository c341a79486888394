#include <cstring>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

void constant_of_shape(KernelContext& ctx) {
  const std::vector<int64_t> dims = int_list_input(ctx, 0);
  if (ctx.input(0).rank() != 1) {
    ctx.fail_input(0, "shape must be 1-D, got shape {}", shape_str(ctx.input(0).shape()));
  }
  for (int64_t d : dims) {
    if (d < 0) ctx.fail_input(0, "shape {} has a negative dimension", shape_str(dims));
  }
  // Default: a float32 zero.
  Tensor value = Tensor::scalar<float>(0.0f);
  if (const Attribute* a = ctx.node.find_attr("value")) {
    // A value that is no tensor, or a tensor without an element type, has no bytes to
    // repeat: refuse it (a size check of 0-byte elements would pass any shape).
    if (a->type != AttrType::kTensor || a->t.empty() || dtype_size(a->t.dtype()) == 0) {
      ctx.fail(StatusCode::kInvalidModel, "attribute value must be a one-element tensor with an element type");
    }
    if (a->t.numel() != 1) {
      ctx.fail(StatusCode::kInvalidModel, "attribute value must hold one element, it holds {}",
               a->t.numel());
    }
    value = a->t;
  }
  Tensor& out = ctx.make_output(0, value.dtype(), dims);
  const size_t size = dtype_size(value.dtype());
  auto* dst = static_cast<uint8_t*>(out.raw());
  const int64_t count = out.numel();
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * size, value.raw(), size);
}

}  // namespace lq::kernels
