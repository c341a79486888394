#include "kernels/float/kernel.hpp"

namespace lq::kernels {

void size(KernelContext& ctx) { ctx.outputs[0] = Tensor::scalar<int64_t>(ctx.input(0).numel()); }

}  // namespace lq::kernels
