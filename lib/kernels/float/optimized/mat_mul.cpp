// MatMul for float32 through the blocked GEMM, one GEMM per output batch.
#include "kernels/float/reference/mat_mul.hpp"

#include "kernels/float/optimized/nn_kernels.hpp"
#include "kernels/float/optimized/parallel.hpp"
#include "kernels/float/optimized/sgemm.hpp"
#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels::optimized {

namespace {

// Below this many multiply-adds a batch is not worth splitting over threads.
constexpr int64_t kSmallBatchWork = int64_t{1} << 18;

}  // namespace

void mat_mul(KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::kFloat32) return kernels::mat_mul(ctx);
  const MatMulPlan p = plan_mat_mul(ctx);
  const float* a = ctx.input(0).data<float>();
  const float* b = ctx.input(1).data<float>();
  float* y = ctx.make_output(0, DType::kFloat32, p.output).data<float>();
  const int64_t batches = static_cast<int64_t>(p.a_offsets.size());
  auto multiply = [&](int64_t batch, ThreadPool* pool) {
    const StridedPanelSource b_source({b + p.b_offsets[static_cast<size_t>(batch)], p.n, 1});
    GemmArgs args;
    args.m = p.m;
    args.n = p.n;
    args.k = p.k;
    args.a = {a + p.a_offsets[static_cast<size_t>(batch)], p.k, 1};
    args.b = &b_source;
    args.c = y + batch * p.m * p.n;
    args.ldc = p.n;
    sgemm(args, pool);
  };
  if (batches > 1 && p.m * p.n * p.k < kSmallBatchWork) {
    ctx.pool.parallel_for(
        batches,
        [&](int64_t begin, int64_t end) {
          for (int64_t batch = begin; batch < end; ++batch) multiply(batch, nullptr);
        },
        grain_for(p.m * p.n * p.k));
    return;
  }
  for (int64_t batch = 0; batch < batches; ++batch) multiply(batch, &ctx.pool);
}

}  // namespace lq::kernels::optimized
