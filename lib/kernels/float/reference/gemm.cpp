// Gemm: Y = alpha * A' * B' + beta * C with plain dot products.
#include "kernels/float/reference/gemm.hpp"

#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels {

namespace {

// Strides that read C (unidirectionally broadcast to [M, N]) at (i, j).
void resolve_c(const KernelContext& ctx, GemmProblem& p) {
  if (!ctx.has_input(2)) return;
  const Tensor& c = ctx.input(2);
  const Shape& s = c.shape();
  if (c.dtype() != ctx.input(0).dtype()) {
    ctx.fail_input(2, "dtype {} differs from A's dtype {}", dtype_name(c.dtype()),
                   dtype_name(ctx.input(0).dtype()));
  }
  const int64_t rows = s.size() == 2 ? s[0] : 1;
  const int64_t cols = s.empty() ? 1 : s.back();
  if (s.size() > 2 || (rows != 1 && rows != p.m) || (cols != 1 && cols != p.n)) {
    ctx.fail_input(2, "shape {} does not broadcast to the output [{},{}]", shape_str(s), p.m, p.n);
  }
  p.has_c = true;
  p.c_row_stride = rows == 1 ? 0 : cols;
  p.c_col_stride = cols == 1 ? 0 : 1;
}

template <typename T>
void gemm_typed(KernelContext& ctx, const GemmProblem& p) {
  const T* a = ctx.input(0).data<T>();
  const T* b = ctx.input(1).data<T>();
  const T* c = p.has_c ? ctx.input(2).data<T>() : nullptr;
  T* y = ctx.make_output(0, ctx.input(0).dtype(), {p.m, p.n}).template data<T>();
  // A' (i, l) and B' (l, j) as element offsets.
  const int64_t a_row = p.trans_a ? 1 : p.k, a_col = p.trans_a ? p.m : 1;
  const int64_t b_row = p.trans_b ? 1 : p.n, b_col = p.trans_b ? p.k : 1;
  ctx.pool.parallel_for(p.m, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        T dot = 0;
        for (int64_t l = 0; l < p.k; ++l)
          dot += a[i * a_row + l * a_col] * b[l * b_row + j * b_col];
        T value = static_cast<T>(p.alpha) * dot;
        if (c) value += static_cast<T>(p.beta) * c[i * p.c_row_stride + j * p.c_col_stride];
        y[i * p.n + j] = value;
      }
    }
  });
}

}  // namespace

GemmProblem resolve_gemm(const KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.rank() != 2)
    ctx.fail_input(0, "shape {} has rank {}, expected 2", shape_str(a.shape()), a.rank());
  if (b.rank() != 2)
    ctx.fail_input(1, "shape {} has rank {}, expected 2", shape_str(b.shape()), b.rank());
  if (b.dtype() != a.dtype()) {
    ctx.fail_input(1, "dtype {} differs from A's dtype {}", dtype_name(b.dtype()),
                   dtype_name(a.dtype()));
  }
  GemmProblem p;
  p.trans_a = ctx.node.attr_int("transA", 0) != 0;
  p.trans_b = ctx.node.attr_int("transB", 0) != 0;
  p.alpha = ctx.node.attr_float("alpha", 1.0f);
  p.beta = ctx.node.attr_float("beta", 1.0f);
  p.m = a.dim(p.trans_a ? 1 : 0);
  p.k = a.dim(p.trans_a ? 0 : 1);
  p.n = b.dim(p.trans_b ? 0 : 1);
  const int64_t b_k = b.dim(p.trans_b ? 1 : 0);
  if (b_k != p.k) {
    ctx.fail_input(1, "shape {} (transB={}) has K = {}, but A {} (transA={}) has K = {}",
                   shape_str(b.shape()), int{p.trans_b}, b_k, shape_str(a.shape()), int{p.trans_a},
                   p.k);
  }
  resolve_c(ctx, p);
  // As in BLAS and ORT, beta = 0 means C is not read (its NaNs do not propagate).
  if (p.beta == 0.0f) p.has_c = false;
  return p;
}

void gemm(KernelContext& ctx) {
  ctx.require_dtype(0, {DType::kFloat32, DType::kFloat64});
  const GemmProblem p = resolve_gemm(ctx);
  if (ctx.input(0).dtype() == DType::kFloat64) {
    gemm_typed<double>(ctx, p);
  } else {
    gemm_typed<float>(ctx, p);
  }
}

}  // namespace lq::kernels
