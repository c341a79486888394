// Integer Gemm: op(A) op(B) + C with op a transpose when asked; alpha and beta are folded
// into the multipliers and the int32 C by the compiler. gemm runs the optimized kernels
// (optimized/matrix_product.cpp) where they apply; gemm_reference never does.
#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/linear.hpp"
#include "kernels/float/reference/broadcast.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Gemm";

}  // namespace

namespace detail {

LinearProblem gemm_problem(const Tensor& a, const Tensor& b, const Tensor* c,
                           const GemmParams& params) {
  require_data(kOp, "input A", a);
  require_weight(kOp, "input B", b);
  if (a.rank() != 2 || b.rank() != 2) {
    fail(kOp, "A {} and B {} must be matrices", shape_str(a.shape()), shape_str(b.shape()));
  }
  LinearProblem problem;
  MatrixProduct& p = problem.product;
  p.rows = params.trans_a ? a.dim(1) : a.dim(0);
  p.depth = params.trans_a ? a.dim(0) : a.dim(1);
  p.cols = params.trans_b ? b.dim(0) : b.dim(1);
  const int64_t b_depth = params.trans_b ? b.dim(1) : b.dim(0);
  if (b_depth != p.depth) {
    fail(kOp,
         "op(A) has {} columns but op(B) has {} rows (A {}, B {}, trans_a {}, "
         "trans_b {})",
         p.depth, b_depth, shape_str(a.shape()), shape_str(b.shape()), params.trans_a,
         params.trans_b);
  }
  const LinearQuant& quant = params.quant;
  check_linear_quant(kOp, quant, a.dtype(), b.dtype(), p.cols);

  problem.out_shape = {p.rows, p.cols};
  if (c != nullptr && !c->empty()) {
    require_dtype(kOp, "C", *c, {DType::kInt32, DType::kInt64});
    bool broadcasts = c->rank() <= 2;
    for (size_t i = 0; broadcasts && i < c->rank(); ++i) {
      const int64_t dim = c->dim(c->rank() - 1 - i);
      broadcasts = dim == 1 || dim == problem.out_shape[1 - i];
    }
    if (!broadcasts) {
      fail(kOp, "C {} does not broadcast to [M, N] = {}", shape_str(c->shape()),
           shape_str(problem.out_shape));
    }
    p.bias = c->to_int64s();
    const std::vector<int64_t> strides = kernels::broadcast_strides(c->shape(), problem.out_shape);
    p.bias_row_stride = strides[0];
    p.bias_col_stride = strides[1];
  }
  p.a_offsets = {0};
  p.b_offsets = {0};
  p.a_row_stride = params.trans_a ? 1 : a.dim(1);
  p.a_depth_stride = params.trans_a ? a.dim(1) : 1;
  p.b_depth_stride = params.trans_b ? 1 : b.dim(1);
  p.b_col_stride = params.trans_b ? b.dim(1) : 1;
  p.wide = linear_needs_int64(quant, a.dtype(), b.dtype(), p.depth, p.bias);
  problem.b_channel_axis = params.trans_b ? 0 : 1;
  return problem;
}

}  // namespace detail

Tensor gemm(const Tensor& a, const Tensor& b, const Tensor* c, const GemmParams& params,
            kernels::ThreadPool* pool) {
  const detail::LinearProblem problem = detail::gemm_problem(a, b, c, params);
  if (std::optional<Tensor> y = optimized::matrix_product(problem, a, b, params.quant, pool)) {
    return *y;
  }
  return detail::reference_linear(problem, a, b, params.quant, pool);
}

Tensor gemm_reference(const Tensor& a, const Tensor& b, const Tensor* c, const GemmParams& params,
                      kernels::ThreadPool* pool) {
  return detail::reference_linear(detail::gemm_problem(a, b, c, params), a, b, params.quant, pool);
}

const IntegerKernel& gemm_kernel() {
  static const IntegerKernel k = make_kernel<GemmParams>(
      {"Gemm", 2, "gemm", [](const KernelArgs& a, const GemmParams& p) {
         return single(gemm(a.in(0), a.in(1), a.optional(2), p, a.pool));
       }});
  return k;
}

}  // namespace lq::integer
