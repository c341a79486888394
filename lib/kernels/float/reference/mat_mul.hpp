// MatMul's numpy-style shape resolution, shared by the reference and the
// optimized kernel.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

// Output batch b multiplies the [M, K] matrix at a + a_offsets[b] with the [K, N]
// matrix at b + b_offsets[b] (element offsets; broadcast batches repeat offsets).
struct MatMulPlan {
  Shape output;
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  std::vector<int64_t> a_offsets;
  std::vector<int64_t> b_offsets;
};

MatMulPlan plan_mat_mul(const KernelContext& ctx);

}  // namespace lq::kernels
