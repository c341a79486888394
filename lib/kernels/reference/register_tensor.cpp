#include "kernels/kernel.hpp"

namespace lq::kernels {

void register_tensor_kernels(KernelRegistry& registry) {
  (void)registry;
}

}  // namespace lq::kernels
