// The integer matrix product shared by MatMul and Gemm.
#include "kernels/integer/common.hpp"

namespace lq::integer::detail {

namespace {

template <typename Acc>
void product_rows(const MatrixProduct& p, const int32_t* a, const int32_t* b,
                  const LinearQuant& quant, int32_t* y, int64_t begin, int64_t end) {
  for (int64_t row = begin; row < end; ++row) {
    const int64_t i = row / p.rows;
    const int64_t m = row % p.rows;
    const int32_t* a_row = a + p.a_offsets[static_cast<size_t>(i)] + m * p.a_row_stride;
    const int32_t* b_matrix = b + p.b_offsets[static_cast<size_t>(i)];
    for (int64_t n = 0; n < p.cols; ++n) {
      const auto bias_at = static_cast<size_t>(m * p.bias_row_stride + n * p.bias_col_stride);
      Acc acc = p.bias.empty() ? 0 : static_cast<Acc>(p.bias[bias_at]);
      const int32_t* b_col = b_matrix + n * p.b_col_stride;
      for (int64_t k = 0; k < p.depth; ++k) {
        acc += Acc{a_row[k * p.a_depth_stride]} * b_col[k * p.b_depth_stride];
      }
      y[row * p.cols + n] = requantize_sum(acc, channel_entry(quant.multipliers, n), quant.output);
    }
  }
}

}  // namespace

void matrix_product(const MatrixProduct& p, const int32_t* a, const int32_t* b,
                    const LinearQuant& quant, int32_t* y, kernels::ThreadPool* pool) {
  auto run = [&](int64_t begin, int64_t end) {
    if (p.wide) {
      product_rows<int64_t>(p, a, b, quant, y, begin, end);
    } else {
      product_rows<int32_t>(p, a, b, quant, y, begin, end);
    }
  };
  const int64_t rows = p.batch * p.rows;
  if (pool != nullptr) {
    pool->parallel_for(rows, run, 4);
  } else {
    run(0, rows);
  }
}

Tensor reference_linear(const LinearProblem& problem, const Tensor& a, const Tensor& b,
                        const LinearQuant& quant, kernels::ThreadPool* pool) {
  const MatrixProduct& p = problem.product;
  const std::vector<int32_t> as = widen(a, quant.input_zero_point);
  const std::vector<int32_t> bs = widen(b, quant.weight_zero_points, problem.b_channel_axis);
  std::vector<int32_t> y(static_cast<size_t>(p.batch * p.rows * p.cols));
  matrix_product(p, as.data(), bs.data(), quant, y.data(), pool);
  return narrow(quant.output, problem.out_shape, y);
}

}  // namespace lq::integer::detail
