#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// [N, C, H, W] -> [N, C * b * b, H / b, W / b], the block offsets becoming the outer
// part of the channels (the inverse of DepthToSpace in DCR mode).
void space_to_depth(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  if (data.rank() != 4)
    ctx.fail_input(0, "expected rank 4 (NCHW), got shape {}", shape_str(data.shape()));
  const int64_t b = ctx.node.attr_int("blocksize", 0);
  const int64_t n = data.dim(0), c = data.dim(1), h = data.dim(2), w = data.dim(3);
  if (b <= 0 || h % b != 0 || w % b != 0) {
    ctx.fail(StatusCode::kInvalidArgument,
             "blocksize {} must be positive and divide the spatial size {}x{}", b, h, w);
  }
  Tensor out(data.dtype(), {n, b, b, c, h / b, w / b});
  permute_copy(ctx, data, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4}, out);
  ctx.outputs[0] = out.reshaped({n, c * b * b, h / b, w / b});
}

}  // namespace lq::kernels
