// Optimized integer MatMul and Gemm: B's columns lie along the vector lanes (packed in
// blocks, four depth entries interleaved per int32 lane, as u8) and A's rows are the
// broadcast operand (packed in panels, as s8), so the per-column multipliers and weight
// zero points of B are per-lane terms of the epilogue.
#include <algorithm>
#include <cstring>

#include "kernels/integer/optimized/linear.hpp"

namespace lq::integer::optimized {

namespace {

using internal::kBlockBytes;
using internal::kMinChunkWork;
using internal::round_up;
using internal::wrap32;

struct ProductSetup {
  const detail::MatrixProduct& p;
  const uint8_t* a;
  const uint8_t* b;
  uint8_t a_flip;           // 0x80 for uint8 A: s8 = a − 128
  uint8_t b_flip;           // 0x80 for signed B: u8 = b + 128
  int32_t zv;               // A's zero point in s8 terms
  std::vector<int32_t> zu;  // per column: B's zero point in u8 terms
  OutputCodes out;
  uint8_t* y;
  size_t y_element;
};

// Columns [n0, n0 + columns) of B for batch entry i as [k4][stride / 4][4] bytes, zeros
// past the depth and past `columns` up to a multiple of nr.
void pack_columns(const ProductSetup& c, const Int8Kernels& kernels, int64_t i, int64_t n0,
                  int64_t columns, int64_t k4, int64_t stride, const uint8_t* pad_row, uint8_t* u) {
  const detail::MatrixProduct& p = c.p;
  const uint8_t* b = c.b + p.b_offsets[static_cast<size_t>(i)];
  const int64_t padded = round_up(columns, kernels.nr);
  for (int64_t q = 0; q < k4; ++q) {
    uint8_t* dst = u + q * stride;
    if (p.b_col_stride == 1) {
      const uint8_t* rows[4];
      for (int64_t t = 0; t < 4; ++t) {
        const int64_t k = 4 * q + t;
        // pad_row holds b_flip, which the XOR turns into 0.
        rows[t] = k < p.depth ? b + k * p.b_depth_stride + n0 : pad_row;
      }
      kernels.interleave4(rows, columns, c.b_flip, dst);
    } else {
      for (int64_t j = 0; j < columns; ++j) {
        for (int64_t t = 0; t < 4; ++t) {
          const int64_t k = 4 * q + t;
          dst[4 * j + t] =
              k < p.depth ? b[k * p.b_depth_stride + (n0 + j) * p.b_col_stride] ^ c.b_flip : 0;
        }
      }
    }
    std::memset(dst + columns * 4, 0, static_cast<size_t>((padded - columns) * 4));
  }
}

// Rows [r0, r0 + rows) of A for batch entry i as panels [panel][k4][mr][4] (zeros past the
// depth and the rows), and each row's sum.
void pack_rows(const ProductSetup& c, int mr, int64_t i, int64_t r0, int64_t rows, int64_t k4,
               int8_t* v, int32_t* sums) {
  const detail::MatrixProduct& p = c.p;
  const uint8_t* a = c.a + p.a_offsets[static_cast<size_t>(i)];
  const int64_t panels = (rows + mr - 1) / mr;
  std::memset(v, 0, static_cast<size_t>(panels * k4 * mr * 4));
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = a + (r0 + r) * p.a_row_stride;
    int8_t* dst = v + (r / mr) * k4 * mr * 4 + (r % mr) * 4;
    int64_t sum = 0;
    for (int64_t k = 0; k < p.depth; ++k) {
      const auto value = static_cast<int8_t>(row[k * p.a_depth_stride] ^ c.a_flip);
      dst[(k / 4) * mr * 4 + k % 4] = value;
      sum += value;
    }
    sums[r] = wrap32(sum);
  }
}

}  // namespace

std::optional<Tensor> matrix_product(const detail::LinearProblem& problem, const Tensor& a,
                                     const Tensor& b, const LinearQuant& quant,
                                     kernels::ThreadPool* pool, const Int8Kernels& kernels) {
  const detail::MatrixProduct& p = problem.product;
  const bool bias_matrix = !p.bias.empty() && p.bias_row_stride != 0 && p.bias_col_stride != 0;
  const int64_t bound = internal::product_bound(quant, a.dtype(), b.dtype(), p.depth);
  if (!internal::eight_bit(a.dtype(), b.dtype()) || bound < 0 || bias_matrix ||
      p.batch * p.rows * p.cols == 0) {
    return std::nullopt;
  }
  Tensor y(quant.output.dtype, problem.out_shape);
  const bool unsigned_a = a.dtype() == DType::kUInt8;
  const bool signed_b = b.dtype() != DType::kUInt8;
  ProductSetup c{p,
                 static_cast<const uint8_t*>(a.raw()),
                 static_cast<const uint8_t*>(b.raw()),
                 static_cast<uint8_t>(unsigned_a ? 0x80 : 0),
                 static_cast<uint8_t>(signed_b ? 0x80 : 0),
                 quant.input_zero_point - (unsigned_a ? 128 : 0),
                 {},
                 internal::output_codes(quant.output),
                 static_cast<uint8_t*>(y.raw()),
                 dtype_size(quant.output.dtype)};
  for (int64_t n = 0; n < p.cols; ++n) {
    c.zu.push_back(detail::channel_entry(quant.weight_zero_points, n) + (signed_b ? 128 : 0));
  }
  const bool per_column = quant.multipliers.size() > 1;
  const ColumnMultiplierTable column_multipliers(per_column ? quant.multipliers
                                                            : std::vector<Multiplier>{});
  // Bias along N (or a scalar) joins the column constants, bias along M the row's; a
  // bias that can take a sum out of int32 is added in int64 instead (requantize_row_wide).
  bool wide = false;
  for (int64_t v : p.bias) wide = wide || internal::wide_with_bias(bound, v);
  const bool row_bias = !wide && !p.bias.empty() && p.bias_row_stride != 0;
  const bool column_bias = !wide && !p.bias.empty() && p.bias_row_stride == 0;

  const int mr = kernels.mr, nr = kernels.nr;
  const int64_t k4 = (p.depth + 3) / 4;
  const int64_t fit = std::max<int64_t>(nr, kBlockBytes / (4 * std::max<int64_t>(k4, 1)) / nr * nr);
  const int64_t block_columns = std::min(fit, round_up(p.cols, nr));
  const int64_t column_blocks = (p.cols + block_columns - 1) / block_columns;
  const int64_t panels = (p.rows + mr - 1) / mr;
  const int64_t wanted = 2 * static_cast<int64_t>(pool ? pool->size() : 1);
  const int64_t have = p.batch * column_blocks;
  const int64_t split = have >= wanted ? 1 : std::min(panels, (wanted + have - 1) / have);
  const int64_t chunk_panels = (panels + split - 1) / split;
  const int64_t row_chunks = (panels + chunk_panels - 1) / chunk_panels;
  const int64_t u_stride = block_columns * 4;
  const std::vector<uint8_t> pad_row(static_cast<size_t>(block_columns), c.b_flip);
  const int64_t task_work = p.depth * block_columns * chunk_panels * mr;
  const int64_t tasks = p.batch * column_blocks * row_chunks;

  internal::run_tasks(
      pool, tasks, std::max<int64_t>(1, kMinChunkWork / std::max<int64_t>(task_work, 1)),
      [&](int64_t begin, int64_t end) {
        std::vector<uint8_t> u(static_cast<size_t>(std::max<int64_t>(k4, 1) * u_stride));
        std::vector<int8_t> v(
            static_cast<size_t>(chunk_panels * std::max<int64_t>(k4, 1) * mr * 4));
        std::vector<int32_t> row_sums(static_cast<size_t>(chunk_panels * mr));
        std::vector<int32_t> column_sums(static_cast<size_t>(block_columns));
        std::vector<int32_t> column_constants(static_cast<size_t>(block_columns));
        std::vector<int32_t> column_factors(static_cast<size_t>(block_columns));
        std::vector<int32_t> tile(static_cast<size_t>(mr * nr));
        for (int64_t task = begin; task < end; ++task) {
          const int64_t i = task / (column_blocks * row_chunks);
          const int64_t block = task / row_chunks % column_blocks;
          const int64_t chunk = task % row_chunks;
          const int64_t n0 = block * block_columns;
          const int64_t columns = std::min(block_columns, p.cols - n0);
          const int64_t r0 = chunk * chunk_panels * mr;
          const int64_t rows = std::min(chunk_panels * mr, p.rows - r0);

          pack_columns(c, kernels, i, n0, columns, k4, u_stride, pad_row.data(), u.data());
          kernels.column_sums(k4, u.data(), u_stride, columns, column_sums.data());
          // sum (a − za)(b − zb) = sum a b − za sum b − zb sum a + K za zb, per column n:
          // the constant K zu zv − zv sum u (+ bias), the factor −zu times the row's sum.
          for (int64_t j = 0; j < columns; ++j) {
            const int64_t zu = c.zu[static_cast<size_t>(n0 + j)];
            int64_t constant =
                p.depth * zu * c.zv - int64_t{c.zv} * column_sums[static_cast<size_t>(j)];
            if (column_bias) constant += p.bias[static_cast<size_t>((n0 + j) * p.bias_col_stride)];
            column_constants[static_cast<size_t>(j)] = wrap32(constant);
            column_factors[static_cast<size_t>(j)] = wrap32(-zu);
          }
          pack_rows(c, mr, i, r0, rows, k4, v.data(), row_sums.data());

          for (int64_t j = 0; j < columns; j += nr) {
            const int64_t tile_columns = std::min<int64_t>(nr, columns - j);
            ColumnTerms terms;
            terms.constant = column_constants.data() + j;
            terms.factor = column_factors.data() + j;
            if (per_column) terms.multipliers = column_multipliers.at(n0 + j);
            for (int64_t panel = 0; panel * mr < rows; ++panel) {
              kernels.dot_tile(k4, u.data() + j * 4, u_stride, v.data() + panel * k4 * mr * 4,
                               tile.data());
              const int64_t panel_rows = std::min<int64_t>(mr, rows - panel * mr);
              for (int64_t ii = 0; ii < panel_rows; ++ii) {
                const int64_t r = panel * mr + ii;
                const int64_t row_constant =
                    row_bias ? p.bias[static_cast<size_t>((r0 + r) * p.bias_row_stride)] : 0;
                const RowTerms row = internal::row_terms(
                    wrap32(row_constant), row_sums[static_cast<size_t>(r)], quant.multipliers[0]);
                const int64_t at = (i * p.rows + r0 + r) * p.cols + n0 + j;
                uint8_t* dst = c.y + at * static_cast<int64_t>(c.y_element);
                if (wide) {
                  const int64_t first = (r0 + r) * p.bias_row_stride + (n0 + j) * p.bias_col_stride;
                  requantize_row_wide(tile.data() + ii * nr, tile_columns, row, terms,
                                      &p.bias[static_cast<size_t>(first)], p.bias_col_stride, c.out,
                                      dst);
                } else {
                  kernels.requantize_row(tile.data() + ii * nr, tile_columns, row, terms, c.out,
                                         dst);
                }
              }
            }
          }
        }
      });
  return y;
}

std::optional<Tensor> mat_mul(const Tensor& a, const Tensor& b, const Tensor* bias,
                              const LinearQuant& quant, kernels::ThreadPool* pool,
                              const Int8Kernels& kernels) {
  return matrix_product(detail::mat_mul_problem(a, b, bias, quant), a, b, quant, pool, kernels);
}

std::optional<Tensor> gemm(const Tensor& a, const Tensor& b, const Tensor* c,
                           const GemmParams& params, kernels::ThreadPool* pool,
                           const Int8Kernels& kernels) {
  return matrix_product(detail::gemm_problem(a, b, c, params), a, b, params.quant, pool, kernels);
}

}  // namespace lq::integer::optimized
