#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

// Inserts dimensions of size 1 at `axes`, which index the output's dimensions.
// The axes are an attribute before opset 13 and input 1 since.
void unsqueeze(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const std::vector<int64_t> axes =
      ctx.opset < 13 ? ctx.node.attr_ints("axes") : int_list_input(ctx, 1);
  if (axes.empty()) ctx.fail(StatusCode::kInvalidModel, "axes is empty or missing");
  const auto out_rank = static_cast<int64_t>(data.rank() + axes.size());
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t axis : axes) {
    const auto a = static_cast<size_t>(normalize_axis(ctx, axis, out_rank, "axis"));
    if (inserted[a]) ctx.fail(StatusCode::kInvalidArgument, "axis {} appears twice", axis);
    inserted[a] = true;
  }
  Shape out;
  size_t next_in = 0;
  for (size_t d = 0; d < inserted.size(); ++d) {
    out.push_back(inserted[d] ? 1 : data.dim(next_in++));
  }
  ctx.outputs[0] = data.reshaped(out);
}

}  // namespace lq::kernels
