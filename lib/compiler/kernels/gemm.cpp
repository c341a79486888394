// Integer Gemm: op(A) op(B) + C with op a transpose when asked; alpha and beta are folded
// into the multipliers and the int32 C by the compiler.
#include "compiler/kernels/common.hpp"
#include "kernels/reference/broadcast.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Gemm";

}  // namespace

Tensor gemm(const Tensor& a, const Tensor& b, const Tensor* c, const GemmParams& params,
            kernels::ThreadPool* pool) {
  detail::require_data(kOp, "input A", a);
  detail::require_weight(kOp, "input B", b);
  if (a.rank() != 2 || b.rank() != 2) {
    detail::fail(kOp, "A {} and B {} must be matrices", shape_str(a.shape()), shape_str(b.shape()));
  }
  detail::MatrixProduct p;
  p.rows = params.trans_a ? a.dim(1) : a.dim(0);
  p.depth = params.trans_a ? a.dim(0) : a.dim(1);
  p.cols = params.trans_b ? b.dim(0) : b.dim(1);
  const int64_t b_depth = params.trans_b ? b.dim(1) : b.dim(0);
  if (b_depth != p.depth) {
    detail::fail(kOp,
                 "op(A) has {} columns but op(B) has {} rows (A {}, B {}, trans_a {}, "
                 "trans_b {})",
                 p.depth, b_depth, shape_str(a.shape()), shape_str(b.shape()), params.trans_a,
                 params.trans_b);
  }
  const LinearQuant& quant = params.quant;
  detail::check_linear_quant(kOp, quant, a.dtype(), b.dtype(), p.cols);

  std::vector<int64_t> bias_values;
  const Shape out_shape = {p.rows, p.cols};
  if (c != nullptr && !c->empty()) {
    detail::require_dtype(kOp, "C", *c, {DType::kInt32, DType::kInt64});
    bool broadcasts = c->rank() <= 2;
    for (size_t i = 0; broadcasts && i < c->rank(); ++i) {
      const int64_t dim = c->dim(c->rank() - 1 - i);
      broadcasts = dim == 1 || dim == out_shape[1 - i];
    }
    if (!broadcasts) {
      detail::fail(kOp, "C {} does not broadcast to [M, N] = {}", shape_str(c->shape()),
                   shape_str(out_shape));
    }
    bias_values = c->to_int64s();
    const std::vector<int64_t> strides = kernels::broadcast_strides(c->shape(), out_shape);
    p.bias = bias_values.data();
    p.bias_row_stride = strides[0];
    p.bias_col_stride = strides[1];
  }
  p.a_offsets = {0};
  p.b_offsets = {0};
  p.a_row_stride = params.trans_a ? 1 : a.dim(1);
  p.a_depth_stride = params.trans_a ? a.dim(1) : 1;
  p.b_depth_stride = params.trans_b ? 1 : b.dim(1);
  p.b_col_stride = params.trans_b ? b.dim(1) : 1;
  p.wide = detail::linear_needs_int64(quant, a.dtype(), b.dtype(), p.depth, bias_values);

  const std::vector<int32_t> as = detail::widen(a, quant.input_zero_point);
  const std::vector<int32_t> bs =
      detail::widen(b, quant.weight_zero_points, params.trans_b ? 0 : 1);
  std::vector<int32_t> y(static_cast<size_t>(p.rows * p.cols));
  detail::matrix_product(p, as.data(), bs.data(), quant, y.data(), pool);
  return detail::narrow(quant.output, out_shape, y);
}

}  // namespace lq::integer
