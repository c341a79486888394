#include <cstring>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// Opset 12 made ratio and training_mode inputs; only training with a non-zero ratio
// drops anything, and that is random, which an inference simulator cannot reproduce.
void require_inference_mode(const KernelContext& ctx) {
  if (ctx.opset < 12 || !ctx.has_input(2)) return;
  const Tensor& training_mode = ctx.input(2);
  if (training_mode.dtype() != DType::kBool || training_mode.numel() != 1) {
    ctx.fail_input(2, "training_mode must be one bool, got {}{}", dtype_name(training_mode.dtype()),
                   shape_str(training_mode.shape()));
  }
  if (!training_mode.data<bool>()[0]) return;
  if (ctx.has_input(1) && ctx.input(1).numel() != 1) {
    ctx.fail_input(1, "ratio must be one value, got shape {}", shape_str(ctx.input(1).shape()));
  }
  const double ratio = ctx.has_input(1) ? ctx.input(1).to_doubles()[0] : 0.5;
  if (ratio != 0.0) {
    ctx.fail(StatusCode::kUnsupported,
             "training_mode is true with ratio {}: random dropout is not supported; set "
             "training_mode to false for inference",
             ratio);
  }
}

}  // namespace

// Inference-mode Dropout: the output is the input (a view) and the mask is all true.
void dropout(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  require_inference_mode(ctx);
  ctx.outputs[0] = data;
  if (ctx.num_outputs() < 2) return;
  // Before opset 10 the mask has the input's dtype.
  if (ctx.opset < 10) {
    Tensor& mask = ctx.make_output(1, data.dtype(), data.shape());
    const std::vector<uint8_t> one = element_bytes(data.dtype(), 1.0);
    auto* out = static_cast<uint8_t*>(mask.raw());
    for (int64_t i = 0; i < mask.numel(); ++i) {
      std::memcpy(out + i * one.size(), one.data(), one.size());
    }
    return;
  }
  Tensor& mask = ctx.make_output(1, DType::kBool, data.shape());
  bool* out = mask.data<bool>();
  for (int64_t i = 0; i < mask.numel(); ++i) out[i] = true;
}

}  // namespace lq::kernels
