#include "kernels/kernel.hpp"

namespace lq::kernels {

void register_nn_kernels(KernelRegistry& registry) {
  (void)registry;
}

}  // namespace lq::kernels
