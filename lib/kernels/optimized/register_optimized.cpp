#include "kernels/kernel.hpp"

namespace lq::kernels {

void register_optimized_kernels(KernelRegistry& registry) {
  (void)registry;
}

}  // namespace lq::kernels
