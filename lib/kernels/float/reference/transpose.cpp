#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

void transpose(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const size_t rank = data.rank();
  std::vector<int64_t> perm = ctx.node.attr_ints("perm");
  if (!ctx.node.has_attr("perm")) {
    for (size_t d = rank; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
  }
  std::vector<bool> used(rank, false);
  bool valid = perm.size() == rank;
  for (size_t d = 0; valid && d < rank; ++d) {
    valid =
        perm[d] >= 0 && perm[d] < static_cast<int64_t>(rank) && !used[static_cast<size_t>(perm[d])];
    if (valid) used[static_cast<size_t>(perm[d])] = true;
  }
  if (!valid) {
    ctx.fail(StatusCode::kInvalidArgument, "perm {} is not a permutation of the {} axes of {}",
             shape_str(perm), rank, shape_str(data.shape()));
  }
  Shape out_shape(rank);
  for (size_t d = 0; d < rank; ++d) out_shape[d] = data.dim(static_cast<size_t>(perm[d]));
  permute_copy(ctx, data, data.shape(), perm, ctx.make_output(0, data.dtype(), out_shape));
}

}  // namespace lq::kernels
