#include "graph/onnx_tensor.hpp"
#include "kernels/float/kernel.hpp"

namespace lq::kernels {

namespace {

DType cast_target(const KernelContext& ctx) {
  if (!ctx.node.has_attr("to")) ctx.fail(StatusCode::kInvalidModel, "attribute 'to' is missing");
  const int64_t to = ctx.node.attr_int("to", 0);
  const DType dtype = onnx_io::dtype_from_onnx(static_cast<int32_t>(to));
  if (dtype == DType::kUndefined) {
    const std::string name =
        onnx::TensorProto_DataType_IsValid(static_cast<int>(to))
            ? onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(to))
            : "unknown";
    ctx.fail(StatusCode::kUnsupported,
             "cannot cast to ONNX type {} ({}): libquant tensors hold no strings, complex or "
             "bfloat16 values",
             to, name);
  }
  return dtype;
}

// Element conversion as ONNX Cast: float to integer truncates toward zero.
Tensor converted(const Tensor& input, DType to) {
  return input.dtype() == to ? input : input.cast(to);
}

}  // namespace

void cast(KernelContext& ctx) {
  const DType to = cast_target(ctx);
  ctx.outputs[0] = converted(ctx.input(0), to);
}

// Opset 15: the target dtype is that of the second input.
void cast_like(KernelContext& ctx) {
  const DType to = ctx.input(1).dtype();
  ctx.outputs[0] = converted(ctx.input(0), to);
}

}  // namespace lq::kernels
