// Gemm for float32 through the blocked GEMM: Y starts as beta * C (broadcast)
// and the GEMM adds alpha * A' * B' to it.
#include "kernels/float/reference/gemm.hpp"

#include "kernels/float/optimized/nn_kernels.hpp"
#include "kernels/float/optimized/sgemm.hpp"
#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels::optimized {

void gemm(KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::kFloat32) return kernels::gemm(ctx);
  const GemmProblem p = resolve_gemm(ctx);
  float* y = ctx.make_output(0, DType::kFloat32, {p.m, p.n}).data<float>();
  if (p.has_c) {
    const float* c = ctx.input(2).data<float>();
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        y[i * p.n + j] = p.beta * c[i * p.c_row_stride + j * p.c_col_stride];
      }
    }
  }
  const float* a = ctx.input(0).data<float>();
  const float* b = ctx.input(1).data<float>();
  const StridedPanelSource b_source(p.trans_b ? StridedMatrix{b, 1, p.k}
                                              : StridedMatrix{b, p.n, 1});
  GemmArgs args;
  args.m = p.m;
  args.n = p.n;
  args.k = p.k;
  args.a = p.trans_a ? StridedMatrix{a, 1, p.m} : StridedMatrix{a, p.k, 1};
  args.alpha = p.alpha;
  args.b = &b_source;
  args.c = y;
  args.ldc = p.n;
  args.accumulate = p.has_c;
  sgemm(args, &ctx.pool);
}

}  // namespace lq::kernels::optimized
