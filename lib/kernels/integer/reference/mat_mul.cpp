// Integer MatMul with numpy semantics: 1-D operands are promoted to matrices (and the
// added axis dropped from the result), batch axes broadcast. mat_mul runs the optimized
// kernels (optimized/matrix_product.cpp) where they apply; mat_mul_reference never does.
#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/linear.hpp"
#include "kernels/float/reference/broadcast.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "MatMul";

// For each entry of `out_batch` (row-major), the element offset of the matching matrix of
// an operand with batch shape `batch` and matrices of `matrix_size` elements.
std::vector<int64_t> batch_offsets(const Shape& batch, const Shape& out_batch,
                                   int64_t matrix_size) {
  const std::vector<int64_t> strides = kernels::broadcast_strides(batch, out_batch);
  const int64_t count = shape_numel(out_batch);
  std::vector<int64_t> offsets(static_cast<size_t>(count));
  std::vector<int64_t> index(out_batch.size());
  for (int64_t i = 0; i < count; ++i) {
    kernels::unravel_index(i, out_batch, index);
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d) offset += index[d] * strides[d];
    offsets[static_cast<size_t>(i)] = offset * matrix_size;
  }
  return offsets;
}

}  // namespace

namespace detail {

LinearProblem mat_mul_problem(const Tensor& a, const Tensor& b, const Tensor* bias,
                              const LinearQuant& quant) {
  require_data(kOp, "input A", a);
  require_weight(kOp, "input B", b);
  if (a.rank() == 0 || b.rank() == 0) {
    fail(kOp, "operands must have rank >= 1, got {} and {}", shape_str(a.shape()),
         shape_str(b.shape()));
  }
  const Shape a_shape = a.rank() == 1 ? Shape{1, a.dim(0)} : a.shape();
  const Shape b_shape = b.rank() == 1 ? Shape{b.dim(0), 1} : b.shape();
  LinearProblem problem;
  MatrixProduct& p = problem.product;
  p.rows = a_shape[a_shape.size() - 2];
  p.depth = a_shape.back();
  p.cols = b_shape.back();
  if (b_shape[b_shape.size() - 2] != p.depth) {
    fail(kOp, "A {} has {} columns but B {} has {} rows", shape_str(a.shape()), p.depth,
         shape_str(b.shape()), b_shape[b_shape.size() - 2]);
  }
  check_linear_quant(kOp, quant, a.dtype(), b.dtype(), p.cols);
  p.bias = read_bias(kOp, bias, p.cols);

  const Shape a_batch(a_shape.begin(), a_shape.end() - 2);
  const Shape b_batch(b_shape.begin(), b_shape.end() - 2);
  const Shape out_batch = broadcast_shape(kOp, a_batch, b_batch);
  p.batch = shape_numel(out_batch);
  p.a_offsets = batch_offsets(a_batch, out_batch, p.rows * p.depth);
  p.b_offsets = batch_offsets(b_batch, out_batch, p.depth * p.cols);
  p.a_row_stride = p.depth;
  p.a_depth_stride = 1;
  p.b_depth_stride = p.cols;
  p.b_col_stride = 1;
  p.bias_col_stride = 1;
  p.wide = linear_needs_int64(quant, a.dtype(), b.dtype(), p.depth, p.bias);
  problem.b_channel_axis = b.rank() - 1;

  problem.out_shape = out_batch;
  if (a.rank() > 1) problem.out_shape.push_back(p.rows);
  if (b.rank() > 1) problem.out_shape.push_back(p.cols);
  return problem;
}

}  // namespace detail

Tensor mat_mul(const Tensor& a, const Tensor& b, const Tensor* bias, const LinearQuant& quant,
               kernels::ThreadPool* pool) {
  const detail::LinearProblem problem = detail::mat_mul_problem(a, b, bias, quant);
  if (std::optional<Tensor> y = optimized::matrix_product(problem, a, b, quant, pool)) return *y;
  return detail::reference_linear(problem, a, b, quant, pool);
}

Tensor mat_mul_reference(const Tensor& a, const Tensor& b, const Tensor* bias,
                         const LinearQuant& quant, kernels::ThreadPool* pool) {
  return detail::reference_linear(detail::mat_mul_problem(a, b, bias, quant), a, b, quant, pool);
}

// Its parameters are a bare LinearQuant.
const IntegerKernel& mat_mul_kernel() {
  static const IntegerKernel k = make_kernel<LinearQuant>(
      {"MatMul", 3, "mat_mul", [](const KernelArgs& a, const LinearQuant& p) {
         return single(mat_mul(a.in(0), a.in(1), a.optional(2), p, a.pool));
       }});
  return k;
}

}  // namespace lq::integer
