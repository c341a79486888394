#include "kernels/kernel.hpp"

namespace lq::kernels {

void register_math_kernels(KernelRegistry& registry) {
  (void)registry;
}

}  // namespace lq::kernels
