#include "kernels/float/kernel.hpp"
#include "kernels/float/optimized/nn_kernels.hpp"

namespace lq::kernels {

void register_optimized_kernels(KernelRegistry& registry) {
  registry.add("Conv", optimized::conv);
  registry.add("ConvTranspose", optimized::conv_transpose);
  registry.add("Gemm", optimized::gemm);
  registry.add("MatMul", optimized::mat_mul);
  registry.add("MaxPool", optimized::max_pool);
  registry.add("AveragePool", optimized::average_pool);
  registry.add("GlobalAveragePool", optimized::global_average_pool);
  registry.add("GlobalMaxPool", optimized::global_max_pool);
}

}  // namespace lq::kernels
