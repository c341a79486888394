#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// Reads [N, C, H, W] as 6-D and permutes it into [N, C / (b * b), H * b, W * b]:
// DCR (default) takes the block offsets from the outer part of C, CRD (opset 11)
// from the inner part.
void depth_to_space(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  if (data.rank() != 4)
    ctx.fail_input(0, "expected rank 4 (NCHW), got shape {}", shape_str(data.shape()));
  const int64_t b = ctx.node.attr_int("blocksize", 0);
  const int64_t n = data.dim(0), c = data.dim(1), h = data.dim(2), w = data.dim(3);
  if (b <= 0 || c % (b * b) != 0) {
    ctx.fail(StatusCode::kInvalidArgument,
             "blocksize {} must be positive with blocksize^2 dividing the {} channels", b, c);
  }
  const int64_t depth = c / (b * b);
  const std::string mode = ctx.node.attr_string("mode", "DCR");
  Shape in_shape;
  std::vector<int64_t> perm;
  if (mode == "DCR") {
    in_shape = {n, b, b, depth, h, w};
    perm = {0, 3, 4, 1, 5, 2};
  } else if (mode == "CRD") {
    in_shape = {n, depth, b, b, h, w};
    perm = {0, 1, 4, 2, 5, 3};
  } else {
    ctx.fail(StatusCode::kInvalidModel, "mode '{}' is not DCR or CRD", mode);
  }
  Tensor out(data.dtype(), {n, depth, h, b, w, b});
  permute_copy(ctx, data, in_shape, perm, out);
  ctx.outputs[0] = out.reshaped({n, depth, h * b, w * b});
}

}  // namespace lq::kernels
