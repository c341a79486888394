#include "kernels/float/kernel.hpp"
#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels {

void register_nn_kernels(KernelRegistry& registry) {
  registry.add("Conv", conv);
  registry.add("ConvTranspose", conv_transpose);
  registry.add("Gemm", gemm);
  registry.add("MatMul", mat_mul);
  registry.add("MaxPool", max_pool);
  registry.add("AveragePool", average_pool);
  registry.add("GlobalAveragePool", global_average_pool);
  registry.add("GlobalMaxPool", global_max_pool);
}

}  // namespace lq::kernels
